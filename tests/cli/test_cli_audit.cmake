# Command-line tests of `vigia audit`: keygen, append, verify, replay, tampering, repair.
# Run by ctest with -DVIGIA=<binary> -DDATA=<shared/data> -DSRC=<source dir>; needs no shared data.

include(${CMAKE_CURRENT_LIST_DIR}/cli_common.cmake)

set(W "${CMAKE_CURRENT_BINARY_DIR}/cli_audit")
file(REMOVE_RECURSE "${W}")
file(MAKE_DIRECTORY "${W}")
set(LOG "${W}/release.log")

run_vigia(out rc help audit)
expect("vigia help audit" rc EQUAL 0 AND out MATCHES "vigia audit verify LOG --pub")
run_vigia(out rc audit)
expect("no subcommand is a usage error" rc EQUAL 2)

# keys: the public key printed and written; never overwritten
run_vigia(out rc audit keygen "${W}/key")
expect("keygen exits 0 (got ${rc})" rc EQUAL 0)
expect("keygen prints the public key (${out})" out MATCHES "^[0-9a-f]+\n$")
string(STRIP "${out}" pub)
string(LENGTH "${pub}" publen)
file(READ "${W}/key.pub" pubfile)
string(STRIP "${pubfile}" pubfile)
expect("a 64-digit public key, also in key.pub" publen EQUAL 64 AND pubfile STREQUAL pub)
file(SIZE "${W}/key" sksize)
expect("a 64-byte secret key" sksize EQUAL 64)
run_vigia(out rc audit keygen "${W}/key")
expect("keygen refuses to overwrite (got ${rc})" rc EQUAL 1 AND LAST_ERR MATCHES "overwrite")
run_vigia(out rc audit keygen "${W}/other")
expect("a second key" rc EQUAL 0)

# three decisions: two deliveries to MEX, a denial to GTM with nothing produced
file(WRITE "${W}/site-1.geojson" "{\"type\":\"FeatureCollection\",\"features\":[]}\n")
file(WRITE "${W}/site-2.geojson" "{\"type\":\"FeatureCollection\",\"features\":[1]}\n")
set(common --key "${W}/key" --marking "UNCLASSIFIED//REL TO USA, MEX" --policy 2026-06)
run_vigia(out rc audit append "${LOG}" ${common} --product site-1 --version 1 --bytes "${W}/site-1.geojson"
          --recipient MEX --egress export --decision allow --reason "REL TO MEX")
expect("append 1 (got ${rc})" rc EQUAL 0 AND out STREQUAL "1\n")
run_vigia(out rc audit append "${LOG}" ${common} --product site-2 --version 4 --bytes "${W}/site-2.geojson"
          --recipient MEX --egress ogcapi --decision allow --reason "REL TO MEX")
expect("append 2 (got ${rc})" rc EQUAL 0 AND out STREQUAL "2\n")
run_vigia(out rc audit append "${LOG}" ${common} --product site-1 --version 1
          --recipient GTM --egress cot --decision deny --reason "GTM not in REL TO")
expect("append 3 (got ${rc})" rc EQUAL 0 AND out STREQUAL "3\n")
run_vigia(out rc audit append "${LOG}" ${common} --product site-1 --version 1
          --recipient GTM --egress cot --decision allow --reason "x")
expect("an allow without --bytes is a usage error (got ${rc})" rc EQUAL 2)
run_vigia(out rc audit append "${LOG}" --key "${W}/key" --product p --version 1 --bytes "${W}/site-1.geojson"
          --recipient MEX --egress export --decision allow --reason r)
expect("a missing --policy is a usage error (got ${rc})" rc EQUAL 2)

# verify: valid, and the JSON report
run_vigia(out rc audit verify "${LOG}" --pub "${W}/key.pub")
expect("verify exits 0 (got ${rc})" rc EQUAL 0)
expect("verify says valid" out MATCHES "valid: 6 lines, 3 entries, 3 checkpoints")
run_vigia(out rc audit verify "${LOG}" --pub "${W}/key.pub" --json)
string(JSON status GET "${out}" status)
string(JSON entries GET "${out}" entries)
string(JSON key GET "${out}" key)
expect("verify --json: ok, 3 entries, our key (${status} ${entries})" rc EQUAL 0 AND status STREQUAL "ok"
       AND entries EQUAL 3 AND key STREQUAL pub)
run_vigia(out rc audit verify "${LOG}" --pub "${W}/other.pub")
expect("another key fails (got ${rc})" rc EQUAL 1 AND LAST_ERR MATCHES "line 2: checkpoint 1 is signed by key")
run_vigia(out rc audit verify "${LOG}")
expect("verify without --pub is a usage error" rc EQUAL 2)
run_vigia(out rc audit verify "${W}/nonexistent.log" --pub "${W}/key.pub")
expect("an unreadable log fails (got ${rc})" rc EQUAL 1)

# replay: the deliveries, per recipient
run_vigia(out rc audit replay "${LOG}" --pub "${W}/key.pub" --recipient MEX --json)
expect("replay exits 0 (got ${rc})" rc EQUAL 0)
string(JSON nrec LENGTH "${out}" recipients)
string(JSON r0 GET "${out}" recipients 0 recipient)
string(JSON nd LENGTH "${out}" recipients 0 deliveries)
string(JSON p1 GET "${out}" recipients 0 deliveries 1 product)
string(JSON v1 GET "${out}" recipients 0 deliveries 1 version)
string(JSON e1 GET "${out}" recipients 0 deliveries 1 egress)
string(JSON d1 GET "${out}" recipients 0 deliveries 1 bytes_blake2b)
expect("replay to MEX: site-1 and site-2 v4 over ogcapi (${nrec} ${r0} ${nd} ${p1} ${v1} ${e1})"
       nrec EQUAL 1 AND r0 STREQUAL "MEX" AND nd EQUAL 2 AND p1 STREQUAL "site-2" AND v1 STREQUAL "4"
       AND e1 STREQUAL "ogcapi")
file(STRINGS "${LOG}" loglines)
list(GET loglines 2 entry2)
string(JSON d1log GET "${entry2}" bytes_blake2b)
expect("the replayed digest is the logged one" d1 STREQUAL d1log)
run_vigia(out rc audit replay "${LOG}" --recipient GTM --json)
string(JSON nd GET "${out}" deliveries)
expect("a denial is not a delivery (${nd})" rc EQUAL 0 AND nd EQUAL 0)
run_vigia(out rc audit replay "${LOG}")
expect("replay text names the recipient" rc EQUAL 0 AND out MATCHES "recipient MEX: 2 deliveries")

# one byte of a recipient changed (entry 2, line 3): verify fails and names the line
file(READ "${LOG}" orig)
string(FIND "${orig}" "\"recipient\":\"MEX\"" at REVERSE)
expect("the last delivery to MEX is in the log" at GREATER 0)
math(EXPR at "${at} + 15")
string(SUBSTRING "${orig}" 0 ${at} head)
math(EXPR at "${at} + 1")
string(SUBSTRING "${orig}" ${at} -1 tail)
file(WRITE "${W}/tampered.log" "${head}Z${tail}")
file(SIZE "${LOG}" s0)
file(SIZE "${W}/tampered.log" s1)
expect("the copy differs by one byte, not in length" s0 EQUAL s1)
run_vigia(out rc audit verify "${W}/tampered.log" --pub "${W}/key.pub")
expect("verify of the tampered copy exits 1 (got ${rc})" rc EQUAL 1)
expect("the message names line 3 and the modification" LAST_ERR MATCHES "line 3: entry seq 2: .*modified")
run_vigia(out rc audit replay "${W}/tampered.log")
string(LENGTH "${out}" outlen)
expect("replay refuses the tampered copy and prints no delivery (got ${rc})" rc EQUAL 1 AND outlen EQUAL 0)

# a torn last line: refused, repaired (bytes kept), valid again
file(WRITE "${W}/torn.log" "${orig}{\"seq\":4,\"time_us\":17")
run_vigia(out rc audit verify "${W}/torn.log" --pub "${W}/key.pub")
expect("a torn line fails (got ${rc})" rc EQUAL 1 AND LAST_ERR MATCHES "line 7: truncated entry")
run_vigia(out rc audit append "${W}/torn.log" ${common} --product site-3 --version 1 --recipient GTM --egress map
          --decision deny --reason r)
expect("no append after a torn line (got ${rc})" rc EQUAL 1 AND LAST_ERR MATCHES "repair")
run_vigia(out rc audit repair "${W}/torn.log")
expect("repair exits 0 (got ${rc})" rc EQUAL 0 AND out MATCHES "removed a torn last line of 21 bytes")
expect("the torn bytes are kept" EXISTS "${W}/torn.log.torn")
run_vigia(out rc audit verify "${W}/torn.log" --pub "${W}/key.pub")
expect("valid after repair (got ${rc})" rc EQUAL 0)

# the last checkpoint removed: the last entry is unsigned (exit 3); a writer adopts it only when told
list(SUBLIST loglines 0 5 kept)
string(REPLACE ";" "\n" kept "${kept}")
file(WRITE "${W}/tail.log" "${kept}\n")
run_vigia(out rc audit verify "${W}/tail.log" --pub "${W}/key.pub")
expect("an unsigned tail exits 3 (got ${rc})" rc EQUAL 3
       AND LAST_ERR MATCHES "WARNING: line 5: 1 entry [(]seq 3 to 3[)] after the last checkpoint")
run_vigia(out rc audit append "${W}/tail.log" ${common} --product site-3 --version 1 --recipient GTM --egress map
          --decision deny --reason r)
expect("no append after an unsigned tail (got ${rc})" rc EQUAL 1 AND LAST_ERR MATCHES "adopt")
run_vigia(out rc audit checkpoint "${W}/tail.log" --key "${W}/key" --adopt-tail)
expect("checkpoint --adopt-tail signs it (got ${rc})" rc EQUAL 0 AND out MATCHES "signed up to seq 3")
run_vigia(out rc audit verify "${W}/tail.log" --pub "${W}/key.pub")
expect("valid once signed (got ${rc})" rc EQUAL 0)

message(STATUS "cli.audit: all checks passed")
