# The end-to-end test (issue 7): `vigia demo` on the default scenario (seed 7)
# and on seeds 21 and 33 simulates three passes each, exploits them into a
# SQLite register and scores it; `vigia score --json` must then show, on
# confirmed sites, for every seed: recall >= 0.9 and precision >= 0.8; and over
# the three seeds pooled: median location error <= 2 x the median stated CE50,
# and between 80 and 97 % of the found sites within their stated CE90. (Pooled:
# with ten sites per scenario a share is a multiple of 0.1, and a calibrated
# system has every one of ten sites inside its CE90 35 % of the time.)
include(${SRC}/tests/cli/cli_common.cmake)

if(NOT EXISTS "${DATA}/spectra/index.csv")
  if("$ENV{CI}" STREQUAL "true")
    message(FATAL_ERROR "shared data absent (${DATA}): the simulator needs spectra/")
  endif()
  message(STATUS "SKIPPED: shared data absent (${DATA})")
  return()
endif()

# a non-negative decimal ("2.35", "1e-3" not expected here) as zero-padded micrometres, so that
# cmake's string sort and integer arithmetic can do the statistics
function(to_um value out)
  string(REGEX MATCH "^[0-9]+" ip "${value}")
  if(ip STREQUAL "")
    message(FATAL_ERROR "not a non-negative decimal: '${value}'")
  endif()
  string(REGEX MATCH "\\.[0-9]*" fp "${value}")
  string(SUBSTRING "${fp}0000000" 1 6 fp6)
  math(EXPR um "${ip} * 1000000 + ${fp6}" OUTPUT_FORMAT DECIMAL)
  string(LENGTH "${um}" len)
  math(EXPR pad "12 - ${len}")
  string(REPEAT "0" ${pad} zeros)
  set(${out} "${zeros}${um}" PARENT_SCOPE)
endfunction()

set(errors "")
set(ratios "")
set(found_all 0)
set(within_all 0)
foreach(seed 7 21 33)
  set(work "${CMAKE_CURRENT_BINARY_DIR}/cli_demo_${seed}")
  file(REMOVE_RECURSE "${work}")
  run_vigia(out rc demo --out "${work}" --seed ${seed} --data "${DATA}" -q)
  expect("demo seed ${seed} exits 0 (${rc})" rc EQUAL 0)
  expect("demo seed ${seed} prints the score" out MATCHES "recall [0-9.]+, precision [0-9.]+")
  expect("demo seed ${seed} says where to look next" out MATCHES "where to look next")

  run_vigia(out rc score --truth "${work}/truth.geojson" --db "${work}/register.db" --json)
  expect("score seed ${seed} exits 0 (${rc})" rc EQUAL 0)
  foreach(k truth_sites scored found recall precision err_median_m ce50_median_m err_over_ce50 within_ce90)
    string(JSON ${k} GET "${out}" ${k})
  endforeach()
  message(STATUS "seed ${seed}: ${found} of ${truth_sites} found, ${scored} confirmed: recall ${recall}, "
                 "precision ${precision}; error median ${err_median_m} m, CE50 median ${ce50_median_m} m "
                 "(ratio ${err_over_ce50}); within CE90 ${within_ce90}")
  expect("seed ${seed}: recall ${recall} >= 0.9" recall GREATER_EQUAL 0.9)
  expect("seed ${seed}: precision ${precision} >= 0.8" precision GREATER_EQUAL 0.8)
  # every found site's error and stated CE50 / CE90, for the pooled figures
  string(JSON nrows LENGTH "${out}" rows)
  math(EXPR last "${nrows} - 1")
  foreach(i RANGE ${last})
    string(JSON truth TYPE "${out}" rows ${i} truth)
    string(JSON sid TYPE "${out}" rows ${i} site_id)
    if(truth STREQUAL "OBJECT" AND sid STREQUAL "NUMBER") # a found truth site (a missed one has no site)
      string(JSON e GET "${out}" rows ${i} error_m)
      string(JSON c50 GET "${out}" rows ${i} ce50_m)
      string(JSON c90 GET "${out}" rows ${i} ce90_m)
      to_um("${e}" e_um)
      to_um("${c50}" c50_um)
      list(APPEND errors "${e_um}")
      list(APPEND ce50s "${c50_um}")
      math(EXPR found_all "${found_all} + 1")
      if(e LESS_EQUAL c90)
        math(EXPR within_all "${within_all} + 1")
      endif()
    endif()
  endforeach()
  file(REMOVE_RECURSE "${work}")
endforeach()

# pooled medians
list(SORT errors)
list(SORT ce50s)
list(LENGTH errors n)
expect("pooled: some sites found" n GREATER 0)
math(EXPR mid "${n} / 2")
list(GET errors ${mid} err_med)
list(GET ce50s ${mid} ce50_med)
math(EXPR err_med "${err_med}")
math(EXPR ce50_med "${ce50_med}")
math(EXPR twice "2 * ${ce50_med}")
math(EXPR within_permille "1000 * ${within_all} / ${found_all}")
message(STATUS "pooled: ${found_all} found sites, median error ${err_med} um, median CE50 ${ce50_med} um, "
               "${within_all} within their CE90 (${within_permille} per mille)")
expect("pooled: median error ${err_med} um <= 2 x median CE50 ${ce50_med} um" err_med LESS_EQUAL twice)
expect("pooled: ${within_permille} per mille within CE90, in [800, 970]"
       within_permille GREATER_EQUAL 800 AND within_permille LESS_EQUAL 970)
