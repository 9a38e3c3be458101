# write_if_changed(PATH CONTENT), for the generator scripts: an unchanged
# output keeps its timestamp, so nothing that depends on it is rebuilt.
function(write_if_changed path content)
  if(EXISTS "${path}")
    file(READ "${path}" previous)
    if("${previous}" STREQUAL "${content}")
      return()
    endif()
  endif()
  file(WRITE "${path}" "${content}")
endfunction()
