# kjh_embed(TARGET tgt NAME sym FILES URL=FILE...)
# Compiles files into tgt at build time (http/embed.c, http/assets.h): the
# generated C source defines `const kjh_assets sym`; declare it with
# `extern const kjh_assets sym;` and serve it with kjh_asset_serve.  A FILE
# not absolute is relative to the calling CMakeLists.txt.  The source is
# regenerated when a file (or the tool) changes.
function(kjh_embed)
  cmake_parse_arguments(A "" "TARGET;NAME" "FILES" ${ARGN})
  if(NOT A_TARGET OR NOT A_NAME OR NOT A_FILES)
    message(FATAL_ERROR "kjh_embed: TARGET, NAME and FILES are required")
  endif()
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${A_NAME}_assets.c)
  set(args)
  set(deps)
  foreach(f ${A_FILES})
    string(FIND "${f}" "=" eq)
    if(eq LESS 1)
      message(FATAL_ERROR "kjh_embed: '${f}' is not URL=FILE")
    endif()
    string(SUBSTRING "${f}" 0 ${eq} url)
    math(EXPR s "${eq} + 1")
    string(SUBSTRING "${f}" ${s} -1 file)
    get_filename_component(file "${file}" ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
    if(NOT EXISTS "${file}")
      message(FATAL_ERROR "kjh_embed: '${file}' does not exist (run scripts/install-deps?)")
    endif()
    list(APPEND args "${url}=${file}")
    list(APPEND deps "${file}")
  endforeach()
  add_custom_command(OUTPUT ${out}
    COMMAND ${KJH_EMBED_TOOL} ${out} ${A_NAME} ${args}
    DEPENDS ${KJH_EMBED_TOOL} ${deps}
    COMMENT "Embedding ${A_NAME}: ${A_FILES}"
    VERBATIM)
  target_sources(${A_TARGET} PRIVATE ${out})
  if(TARGET kjh_embed_host) # cross build: the tool is a file, not a target
    add_dependencies(${A_TARGET} kjh_embed_host)
  endif()
  target_link_libraries(${A_TARGET} PRIVATE kj_http)
endfunction()
