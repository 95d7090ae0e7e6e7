# Every dependency is a Debian 12 -dev package. Those that ship a .pc file are
# found through pkg-config; mbedTLS, http-parser and libcsv ship none, so they
# are found by header and library. Each becomes an imported target kj::NAME.
find_package(PkgConfig REQUIRED)
if(WIN32)
  # Windows (cmake/mingw-w64.cmake): static libraries only, so kinerja.exe
  # needs no DLL; MinGW's default would prefer libz.dll.a to libz.a.
  set(CMAKE_FIND_LIBRARY_SUFFIXES .a)
endif()
find_package(Threads REQUIRED)

pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
pkg_check_modules(SQLITE REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
pkg_check_modules(UV REQUIRED IMPORTED_TARGET libuv)
pkg_check_modules(ZLIB REQUIRED IMPORTED_TARGET zlib)
# zstd with the shared dictionary (common/zst.c, issue 21): libzstd-dev
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(ARGON2 REQUIRED IMPORTED_TARGET libargon2)
# XLSX export (proto/table.c: kinerjad export, the office app's Impor &
# Ekspor); optional in a client-only cross build, which then exports CSV only
if(NOT KJ_CLIENT_ONLY)
  pkg_check_modules(XLSXWRITER REQUIRED IMPORTED_TARGET xlsxwriter)
  # the server's PostgreSQL store (issue 19): Debian's libpq-dev
  pkg_check_modules(PQ REQUIRED IMPORTED_TARGET libpq)
  # SHA-256 of every pushed change (server/hash.c, issue 21): Debian's
  # libssl-dev; the server only (the client keeps mbedTLS)
  pkg_check_modules(LIBCRYPTO REQUIRED IMPORTED_TARGET libcrypto)
else()
  pkg_check_modules(XLSXWRITER IMPORTED_TARGET xlsxwriter)
endif()
if(KJ_TESTS)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
endif()

function(kj_find_plain name header)
  cmake_parse_arguments(A "" "" "LIBS" ${ARGN})
  find_path(${name}_INCLUDE_DIR ${header})
  set(libs)
  foreach(l ${A_LIBS})
    find_library(${name}_${l}_LIB ${l})
    if(NOT ${name}_${l}_LIB)
      message(FATAL_ERROR "library ${l} not found: run scripts/install-deps")
    endif()
    list(APPEND libs ${${name}_${l}_LIB})
  endforeach()
  if(NOT ${name}_INCLUDE_DIR)
    message(FATAL_ERROR "header ${header} not found: run scripts/install-deps")
  endif()
  add_library(kj::${name} INTERFACE IMPORTED GLOBAL)
  set_target_properties(kj::${name} PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${${name}_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${libs}")
endfunction()

kj_find_plain(mbedtls mbedtls/ssl.h LIBS mbedtls mbedx509 mbedcrypto)
kj_find_plain(http_parser http_parser.h LIBS http_parser)
kj_find_plain(csv csv.h LIBS csv)

set(kj_pc_deps CURL SQLITE CJSON UV ZLIB ZSTD ARGON2)
if(XLSXWRITER_FOUND)
  list(APPEND kj_pc_deps XLSXWRITER)
endif()
if(NOT KJ_CLIENT_ONLY)
  list(APPEND kj_pc_deps PQ LIBCRYPTO)
endif()
foreach(p ${kj_pc_deps})
  string(TOLOWER ${p} lp)
  add_library(kj::${lp} ALIAS PkgConfig::${p})
endforeach()
if(KJ_TESTS)
  add_library(kj::cmocka ALIAS PkgConfig::CMOCKA)
endif()
