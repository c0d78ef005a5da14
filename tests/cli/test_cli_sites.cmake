# Command-line tests of `vigia sites` on a small register made by sites_fixture (three sites
# near 35 N, 45 E: see tests/cli/sites_fixture.c).
# Run by ctest with -DVIGIA=<binary> -DFIXTURE=<sites_fixture> -DWORK=<scratch folder>.

include(${CMAKE_CURRENT_LIST_DIR}/cli_common.cmake)

file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
set(DB "${WORK}/register.db")
execute_process(COMMAND ${FIXTURE} ${DB} RESULT_VARIABLE rc ERROR_VARIABLE LAST_ERR)
expect("fixture makes the register (rc ${rc})" rc EQUAL 0)

# ---- list ----
run_vigia(out rc sites --db "${DB}" list --json)
expect("list exits 0 (got ${rc})" rc EQUAL 0)
string(JSON n LENGTH "${out}")
expect("three sites (got ${n})" n EQUAL 3)
string(JSON id0 GET "${out}" 0 id)
string(JSON nobs0 GET "${out}" 0 nobs)
string(JSON st0 GET "${out}" 0 state)
string(JSON sig0 GET "${out}" 0 sigma_m)
string(JSON k0 GET "${out}" 0 kinds 0)
string(JSON last0 GET "${out}" 0 last)
expect("site 1 first, two observations fused (got ${id0}, ${nobs0})" id0 EQUAL 1 AND nobs0 EQUAL 2)
expect("a candidate (got ${st0})" st0 STREQUAL "candidate")
# diag(16, 16) fused twice: diag(8, 8), sigma sqrt(8) = 2.83 m
expect("sigma 2.83 m (got ${sig0})" sig0 GREATER 2.82 AND sig0 LESS 2.84)
expect("thermal (got ${k0})" k0 STREQUAL "thermal")
expect("last seen at 12:00:01Z (got ${last0})" last0 STREQUAL "2024-05-01T12:00:01Z")

run_vigia(out rc sites --db "${DB}" list)
expect("table exits 0" rc EQUAL 0)
expect("table header" out MATCHES "id +state +lat +lon +sigma_m +p +nobs +nmiss +kinds +last")
expect("table row of site 1" out MATCHES "\n +1 +candidate +35\\.000000 +45\\.000000 +2\\.8 ")

run_vigia(out rc sites --db "${DB}" list --max 2 --json)
string(JSON n LENGTH "${out}")
expect("--max 2 gives 2 (got ${n})" rc EQUAL 0 AND n EQUAL 2)
expect("and says there are more" LAST_ERR MATCHES "more than 2 sites")

run_vigia(out rc sites --db "${DB}" list --box 35.001,44.99,35.01,45.01 --json)
string(JSON n LENGTH "${out}")
string(JSON id GET "${out}" 0 id)
expect("box holds the site 500 m north only (got ${n}, id ${id})" rc EQUAL 0 AND n EQUAL 1 AND id EQUAL 2)

# ---- near ----
run_vigia(out rc sites --db "${DB}" near 35.0 45.0 1000 --json)
string(JSON n LENGTH "${out}")
string(JSON a GET "${out}" 0 id)
string(JSON b GET "${out}" 1 id)
expect("near 1 km: sites 1 then 2 (got ${n}: ${a}, ${b})" rc EQUAL 0 AND n EQUAL 2 AND a EQUAL 1 AND b EQUAL 2)
run_vigia(out rc sites --db "${DB}" near 35.0 45.0 499 --json)
string(JSON n LENGTH "${out}")
expect("near 499 m: site 1 only (got ${n})" rc EQUAL 0 AND n EQUAL 1)
run_vigia(out rc sites --db "${DB}" near 35.0 45.0 0)
expect("radius 0 fails (got ${rc})" rc EQUAL 1)
run_vigia(out rc sites --db "${DB}" near 35.0 45.0)
expect("near without a radius is a usage error (got ${rc})" rc EQUAL 2)

# ---- show, history ----
run_vigia(out rc sites --db "${DB}" show 3 --json)
string(JSON k GET "${out}" kinds 0)
string(JSON p GET "${out}" p)
expect("site 3 is an anomaly (got ${k})" rc EQUAL 0 AND k STREQUAL "anomaly")
# prior -2 + anomaly 1: p = 1 / (1 + e) = 0.269
expect("p 0.269 (got ${p})" p GREATER 0.268 AND p LESS 0.270)
run_vigia(out rc sites --db "${DB}" show 3)
expect("show as text" rc EQUAL 0 AND out MATCHES "site 3  candidate")
run_vigia(out rc sites --db "${DB}" show 99)
expect("no site 99 fails (got ${rc})" rc EQUAL 1 AND LAST_ERR MATCHES "no site 99")
run_vigia(out rc sites --db "${DB}" show x)
expect("a bad id is a usage error (got ${rc})" rc EQUAL 2)

run_vigia(out rc sites --db "${DB}" history 1 --json)
string(JSON n LENGTH "${out}")
string(JSON f0 GET "${out}" 0 frame)
string(JSON f1 GET "${out}" 1 frame)
string(JSON t1 GET "${out}" 1 time)
expect("two observations, oldest first (got ${n}: ${f0}, ${f1})" rc EQUAL 0 AND n EQUAL 2 AND f0 EQUAL 0 AND f1 EQUAL 1)
expect("ISO time (got ${t1})" t1 STREQUAL "2024-05-01T12:00:01Z")
run_vigia(out rc sites --db "${DB}" history 1)
expect("history table" rc EQUAL 0 AND out MATCHES "cli-flight")

# ---- decisions ----
run_vigia(out rc sites --db "${DB}" dismiss 2 --note "tarp over hay" --json)
string(JSON st GET "${out}" state)
string(JSON nt GET "${out}" note)
expect("dismissed with its note (got ${st}, ${nt})" rc EQUAL 0 AND st STREQUAL "dismissed" AND nt STREQUAL "tarp over hay")
run_vigia(out rc sites --db "${DB}" confirm 1 --json)
string(JSON st GET "${out}" state)
expect("confirmed (got ${st})" rc EQUAL 0 AND st STREQUAL "confirmed")
run_vigia(out rc sites --db "${DB}" note 1 "seen by the patrol" --json)
string(JSON nt GET "${out}" note)
string(JSON st GET "${out}" state)
expect("note replaced, state kept (got ${nt}, ${st})" rc EQUAL 0 AND nt STREQUAL "seen by the patrol" AND st STREQUAL "confirmed")
run_vigia(out rc sites --db "${DB}" list --json)
string(JSON st GET "${out}" 1 state)
expect("the decision is in the register (got ${st})" st STREQUAL "dismissed")
run_vigia(out rc sites --db "${DB}" show 1 --note x)
expect("--note with show is a usage error (got ${rc})" rc EQUAL 2)

# ---- usage ----
run_vigia(out rc sites list)
expect("no --db is a usage error (got ${rc})" rc EQUAL 2)
run_vigia(out rc sites --db "${DB}" frobnicate)
expect("an unknown action is a usage error (got ${rc})" rc EQUAL 2)
run_vigia(out rc sites --db "${WORK}" list)
expect("a folder is not a register (got ${rc})" rc EQUAL 1)
