# Toolchain file: Windows x86_64 with Debian's MinGW-w64 (issue 20).
#
#   cmake -S . -B build-windows -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64.cmake \
#         -DKJ_WINDOWS_PREFIX="$(scripts/windows-deps --prefix)"
#
# (`make windows` does both.)  KJ_WINDOWS_PREFIX is where scripts/windows-deps
# installed the static libraries built from Debian's source packages; zlib
# comes from libz-mingw-w64-dev under /usr/x86_64-w64-mingw32.  Libraries and
# headers are looked up there only, never on the Linux system, and linked
# statically (-static), so kinerja.exe needs no DLL beside it.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(KJ_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${KJ_MINGW_TRIPLE}-gcc)
set(CMAKE_RC_COMPILER ${KJ_MINGW_TRIPLE}-windres)

if(NOT KJ_WINDOWS_PREFIX AND DEFINED ENV{KJ_WINDOWS_PREFIX})
  set(KJ_WINDOWS_PREFIX "$ENV{KJ_WINDOWS_PREFIX}")
endif()
if(NOT KJ_WINDOWS_PREFIX)
  message(FATAL_ERROR "KJ_WINDOWS_PREFIX not set: pass -DKJ_WINDOWS_PREFIX=$(scripts/windows-deps --prefix)")
endif()
# try_compile projects re-read this file: hand them the prefix.
set(ENV{KJ_WINDOWS_PREFIX} "${KJ_WINDOWS_PREFIX}")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES KJ_WINDOWS_PREFIX)

set(CMAKE_FIND_ROOT_PATH "${KJ_WINDOWS_PREFIX}" /usr/${KJ_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config reads only the Windows .pc files, with their static libraries.
set(ENV{PKG_CONFIG_LIBDIR} "${KJ_WINDOWS_PREFIX}/lib/pkgconfig:/usr/${KJ_MINGW_TRIPLE}/lib/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(PKG_CONFIG_ARGN --static)
set(CMAKE_EXE_LINKER_FLAGS_INIT -static)
