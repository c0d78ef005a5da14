# Shared by the command-line tests (run with cmake -P): run the vigia binary, check a condition.

# run_vigia(<stdout var> <exit status var> args...): LAST_ERR holds stderr.
function(run_vigia out_var rc_var)
  execute_process(COMMAND ${VIGIA} ${ARGN} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  set(${out_var} "${out}" PARENT_SCOPE)
  set(${rc_var} "${rc}" PARENT_SCOPE)
  set(LAST_ERR "${err}" PARENT_SCOPE)
endfunction()

# expect("what is checked" <if() condition...>)
macro(expect msg)
  if(NOT (${ARGN}))
    message(FATAL_ERROR "FAILED: ${msg}\nstderr: ${LAST_ERR}")
  endif()
endmacro()
