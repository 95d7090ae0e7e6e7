; kinerja.nsi - the Windows installer, kinerja-setup-VERSION.exe (issue 20
; point 3; docs/operations.md "Office PCs on Windows").  Built by `make
; windows` (dist/windows/CMakeLists.txt) with Debian's NSIS:
;   makensis -DVERSION=0.2.0 -DEXE=kinerja.exe -DMO=kinerja.mo \
;            -DOUTFILE=kinerja-setup-0.2.0.exe kinerja.nsi
; It installs kinerja.exe to Program Files with its Indonesian catalogue
; (MO, po/id.po compiled, as share\locale\id\LC_MESSAGES\kinerja.mo beside
; it: common/i18n_gettext.c looks there), makes %ProgramData%\kinerja for
; the database (kept on uninstall), a Start-menu entry that opens the office
; app (http://127.0.0.1:8080/, what `kinerja ui` serves) in the default
; browser, and starts `kinerja ui` at every logon (HKLM Run).  /S installs
; and uninstalls silently.
!ifndef VERSION | EXE | MO | OUTFILE
  !error "give -DVERSION=, -DEXE=, -DMO= and -DOUTFILE="
!endif

Unicode true
Target amd64-unicode
SetCompressor /SOLID lzma
Name "kinerja ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\kinerja"
RequestExecutionLevel admin
ShowInstDetails show
VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "kinerja"
VIAddVersionKey "FileDescription" "kinerja office client installer"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "LegalCopyright" "kinerja"

!define UNINST "Software\Microsoft\Windows\CurrentVersion\Uninstall\kinerja"
!define RUN "Software\Microsoft\Windows\CurrentVersion\Run"
!define APP_URL "http://127.0.0.1:8080/"

Page directory
Page instfiles
UninstPage uninstConfirm
UninstPage instfiles

Section "kinerja"
  SetShellVarContext all ; $APPDATA = ProgramData, $SMPROGRAMS = all users'
  SetRegView 64
  ; an upgrade: stop the running kinerja so that its exe can be replaced
  nsExec::Exec 'taskkill /F /IM kinerja.exe'
  SetOutPath "$INSTDIR"
  File "/oname=kinerja.exe" "${EXE}"
  SetOutPath "$INSTDIR\share\locale\id\LC_MESSAGES"
  File "/oname=kinerja.mo" "${MO}"
  SetOutPath "$INSTDIR"
  CreateDirectory "$APPDATA\kinerja" ; the database: kept on uninstall
  CreateDirectory "$SMPROGRAMS\kinerja"
  WriteINIStr "$SMPROGRAMS\kinerja\kinerja.url" "InternetShortcut" "URL" "${APP_URL}"
  WriteRegStr HKLM "${RUN}" "kinerja" '"$INSTDIR\kinerja.exe" ui'
  WriteUninstaller "$INSTDIR\uninstall.exe"
  WriteRegStr HKLM "${UNINST}" "DisplayName" "kinerja"
  WriteRegStr HKLM "${UNINST}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINST}" "Publisher" "kinerja"
  WriteRegStr HKLM "${UNINST}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINST}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINST}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINST}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINST}" "NoRepair" 1
SectionEnd

Section "Uninstall"
  SetShellVarContext all
  SetRegView 64
  nsExec::Exec 'taskkill /F /IM kinerja.exe'
  DeleteRegValue HKLM "${RUN}" "kinerja"
  Delete "$SMPROGRAMS\kinerja\kinerja.url"
  RMDir "$SMPROGRAMS\kinerja"
  Delete "$INSTDIR\kinerja.exe"
  Delete "$INSTDIR\share\locale\id\LC_MESSAGES\kinerja.mo"
  RMDir "$INSTDIR\share\locale\id\LC_MESSAGES"
  RMDir "$INSTDIR\share\locale\id"
  RMDir "$INSTDIR\share\locale"
  RMDir "$INSTDIR\share"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKLM "${UNINST}"
  ; $APPDATA\kinerja (the database, with the device token) stays
SectionEnd
