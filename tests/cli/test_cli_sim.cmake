# vigia simulate: the simulated video plays (vigia probe clean, ffprobe), and
# vigia geocheck finds each bias the scenario put in: a heading bias as
# azimuth_bias, a pitch bias as elevation_bias, a latency as timing_offset.
include(${SRC}/tests/cli/cli_common.cmake)

if(NOT EXISTS "${DATA}/spectra/index.csv")
  if("$ENV{CI}" STREQUAL "true")
    message(FATAL_ERROR "shared data absent (${DATA}): the simulator needs spectra/")
  endif()
  message(STATUS "SKIPPED: shared data absent (${DATA})")
  return()
endif()

set(work "${CMAKE_CURRENT_BINARY_DIR}/cli_sim")
file(REMOVE_RECURSE "${work}")
file(MAKE_DIRECTORY "${work}")

# name; bias [heading, pitch, roll]; latency; finding; the range it must fall in.
# Signs: geocheck reports KLV minus computed as seen from the sensor, so a heading
# reported 0.8 deg high is an azimuth bias of -0.8, a pitch reported 0.5 deg low an
# elevation bias of +0.5 (reduced by the cosine of the gimbal's +-25 deg azimuth
# scan: 0.45-0.5), a pose 0.3 s old a timing offset of -0.3 s.
set(cases
  "heading|[0.8, 0, 0]|0|azimuth_bias|-0.86|-0.74"
  "pitch|[0, -0.5, 0]|0|elevation_bias|0.44|0.56"
  "latency|[0, 0, 0]|0.3|timing_offset|-0.33|-0.27")
foreach(c IN LISTS cases)
  string(REPLACE "|" ";" f "${c}")
  list(GET f 0 name)
  list(GET f 1 bias)
  list(GET f 2 lat)
  list(GET f 3 kind)
  list(GET f 4 want_lo)
  list(GET f 5 want_hi)
  set(scen "${work}/${name}.json")
  file(WRITE "${scen}" "{\"name\": \"${name}\", \"seed\": 3, \"size_m\": 600, \"sites\": 3, \"sites_new\": 0,
  \"vehicles\": 1, \"roofs\": 1, \"rocks\": 1, \"warm_rocks\": 0, \"width\": 320, \"height\": 180, \"fps\": 2,
  \"pos_noise_m\": 0.3, \"att_noise_deg\": 0.01,
  \"passes\": [{\"day\": 0, \"hour\": 10, \"heading_deg\": 30, \"att_bias_deg\": ${bias}, \"latency_s\": ${lat}}]}")
  run_vigia(out rc simulate "${scen}" --out "${work}/${name}" --data "${DATA}" -q)
  expect("simulate ${name} exits 0 (${rc})" rc EQUAL 0)
  set(ts "${work}/${name}/pass1/video.ts")

  run_vigia(out rc probe "${ts}" --json)
  expect("probe ${name}: exit 0 = clean (${rc})" rc EQUAL 0)
  string(JSON kinds LENGTH "${out}" streams)
  expect("probe ${name}: two streams (${kinds})" kinds EQUAL 2)
  string(JSON carriage GET "${out}" streams 0 klv carriage)
  string(JSON nklv GET "${out}" klv_packets)
  string(JSON nvid GET "${out}" video frames)
  expect("probe ${name}: synchronous KLV (${carriage})" carriage STREQUAL "sync")
  expect("probe ${name}: one KLV packet per frame (${nklv} for ${nvid})" nklv EQUAL nvid)

  find_program(FFPROBE ffprobe)
  if(FFPROBE)
    execute_process(COMMAND ${FFPROBE} -v error -count_frames -show_entries stream=codec_name,nb_read_frames
                            -of csv=p=0 "${ts}"
                    OUTPUT_VARIABLE ff ERROR_VARIABLE fferr RESULT_VARIABLE ffrc)
    string(LENGTH "${fferr}" fferr_len)
    expect("ffprobe ${name} exits 0 with no error (${ffrc}: ${fferr})" ffrc EQUAL 0 AND fferr_len EQUAL 0)
    expect("ffprobe ${name} sees the MPEG-2 video and the KLV (${ff})" "${ff}" MATCHES "mpeg2video,[0-9]+" AND "${ff}" MATCHES "klv")
  else()
    message(STATUS "ffprobe not found: the playback check is skipped")
  endif()

  run_vigia(out rc geocheck "${ts}" --dem "${work}/${name}/dem.tif" --json)
  expect("geocheck ${name} exits 0 (${rc})" rc EQUAL 0)
  string(JSON nf LENGTH "${out}" findings)
  set(found "")
  if(nf GREATER 0)
    math(EXPR last "${nf} - 1")
    foreach(i RANGE ${last})
      string(JSON k GET "${out}" findings ${i} kind)
      string(JSON v GET "${out}" findings ${i} value)
      if(k STREQUAL kind)
        set(found "${v}")
      endif()
    endforeach()
  endif()
  string(LENGTH "${found}" found_len)
  expect("geocheck ${name}: a ${kind} finding (findings: ${nf})" found_len GREATER 0)
  message(STATUS "${name}: ${kind} ${found} (must be in [${want_lo}, ${want_hi}])")
  # if() compares numbers as doubles
  expect("geocheck ${name}: ${kind} ${found} in [${want_lo}, ${want_hi}]"
         found GREATER_EQUAL want_lo AND found LESS_EQUAL want_hi)
endforeach()
file(REMOVE_RECURSE "${work}")
