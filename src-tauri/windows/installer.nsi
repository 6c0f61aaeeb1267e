; Call Support's Windows installer (NSIS 3, 64-bit stubs), built by `cargo xtask dist`:
;
;   makensis -DMODE=machine|user -DVERSION=0.1.0 -DBINDIR=... -DPOLICYDIR=... -DICON=...
;            -DICONPNG=... -DOUTFILE=... [-DSIGN_UNINSTALLER="command %1"] installer.nsi
;
; MODE=machine installs for every user of the computer (Program Files, HKLM; an administrator's
; or SYSTEM's job), MODE=user for the signed-in user alone (%LocalAppData%\Programs, HKCU; no
; administrator needed). Both install silently with /S, and take the organisation's configuration
; on the command line:
;
;   CallSupport-0.1.0-x64-machine-setup.exe /S /CONFIG=\\server\share\callsupport\config.toml
;
; The file is checked (`callsupport config install`) before anything is installed; a bad one
; stops the installer with exit code 2 and nothing written. The machine installer makes it the
; machine-wide file (%ProgramData%\CallSupport\config.toml), the user installer the user's own.
;
; Registered: the callsupport:// link handler, "Open with" for .zip files (support bundles;
; Windows' own .zip handling stays the default), the notifications' name and icon, the Start menu
; entry, the uninstall entry, and
; the tray agent's start at sign-in (the machine installer's with --at-login, which the agent
; obeys only while the user's startup.at_login is on). Uninstalling (also silent with /S) takes
; all of that away and leaves the users' data and IT's configuration file.

Unicode true
Target amd64-unicode
ManifestDPIAware true
SetCompressor /SOLID lzma
SetCompressorDictSize 32

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "FileFunc.nsh"
!include "x64.nsh"

!define PRODUCT "Call Support"
!define PUBLISHER "Call Support"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\CallSupport"
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"
; The value's name: the tray agent keeps the user's value of the same name (autostart/run_key.rs).
!define RUN_VALUE "Call Support"
!define PROGID "CallSupport.Bundle"
; The identity the tray agent's notifications carry (crates/tray/src/notify.rs).
!define AUMID "com.callsupport.desktop"

!if "${MODE}" == "machine"
  !define ROOT HKLM
  !define CONFIG_FOR "machine"
  !define RUN_COMMAND '"$INSTDIR\callsupport-tray.exe" --at-login'
  RequestExecutionLevel admin
  InstallDir "$PROGRAMFILES64\Call Support"
!else if "${MODE}" == "user"
  !define ROOT HKCU
  !define CONFIG_FOR "user"
  ; As the agent writes it itself, so it finds the value its own.
  !define RUN_COMMAND '"$INSTDIR\callsupport-tray.exe"'
  RequestExecutionLevel user
  InstallDir "$LOCALAPPDATA\Programs\Call Support"
!else
  !error "MODE must be machine or user (-DMODE=...)"
!endif
InstallDirRegKey ${ROOT} "${UNINSTALL_KEY}" "InstallLocation"

!ifdef SIGN_UNINSTALLER
  ; The uninstaller is written by makensis; it is signed before it goes into the installer.
  !uninstfinalize `${SIGN_UNINSTALLER}`
!endif

Name "${PRODUCT}"
OutFile "${OUTFILE}"
BrandingText "${PRODUCT} ${VERSION}"
ShowInstDetails nevershow
ShowUninstDetails nevershow

VIProductVersion "${VERSION}.0"
VIFileVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${PRODUCT}"
VIAddVersionKey "CompanyName" "${PUBLISHER}"
VIAddVersionKey "FileDescription" "${PRODUCT} installer (${MODE})"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "LegalCopyright" "Copyright (c) 2026 the Call Support developers"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!if "${MODE}" == "user"
  ; Not offered by the per-machine installer: it runs elevated, and so would the app it opened.
  !define MUI_FINISHPAGE_RUN "$INSTDIR\callsupport-app.exe"
  !define MUI_FINISHPAGE_RUN_TEXT "Open ${PRODUCT}"
!endif
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Var ConfigFile

Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_ICONSTOP "${PRODUCT} needs 64-bit Windows." /SD IDOK
    SetErrorLevel 1
    Quit
  ${EndIf}
  SetRegView 64
  !if "${MODE}" == "machine"
    SetShellVarContext all
  !else
    SetShellVarContext current
  !endif
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/CONFIG=" $ConfigFile
  ${If} ${Errors}
    StrCpy $ConfigFile ""
  ${ElseIf} $ConfigFile != ""
    ; Relative to where the installer was started, not to where it unpacks its helpers.
    GetFullPathName $R1 $ConfigFile
    ${If} $R1 != ""
      StrCpy $ConfigFile $R1
    ${EndIf}
  ${EndIf}
FunctionEnd

Function un.onInit
  SetRegView 64
  !if "${MODE}" == "machine"
    SetShellVarContext all
  !else
    SetShellVarContext current
  !endif
FunctionEnd

; The agent is stopped so its program can be replaced; it keeps no state that stopping loses (the
; outbox is on disk). Programs still running (the app, a CLI) are renamed aside: Windows lets a
; running program be renamed, not overwritten, and the old file goes at the next restart.
!macro SetAside FILE
  ${If} ${FileExists} "$INSTDIR\${FILE}"
    Delete "$INSTDIR\${FILE}"
    ${If} ${FileExists} "$INSTDIR\${FILE}"
      Delete "$INSTDIR\${FILE}.old"
      Rename "$INSTDIR\${FILE}" "$INSTDIR\${FILE}.old"
      Delete /REBOOTOK "$INSTDIR\${FILE}.old"
    ${EndIf}
  ${EndIf}
!macroend

Section "Call Support" Main
  SectionIn RO
  ; The organisation's configuration first: a bad file stops the installer before anything
  ; is written.
  ${If} $ConfigFile != ""
    InitPluginsDir
    SetOutPath "$PLUGINSDIR"
    File "${BINDIR}\callsupport.exe"
    nsExec::ExecToStack '"$PLUGINSDIR\callsupport.exe" config install "$ConfigFile" --for ${CONFIG_FOR}'
    Pop $0
    Pop $1
    ${If} $0 != "0"
      SetDetailsPrint both
      DetailPrint "$1"
      MessageBox MB_ICONSTOP "${PRODUCT} was not installed: the configuration $ConfigFile cannot be used.$\r$\n$\r$\n$1" /SD IDOK
      SetErrorLevel 2
      Quit
    ${EndIf}
  ${EndIf}

  nsExec::Exec 'taskkill /F /IM callsupport-tray.exe'
  Pop $0
  SetOutPath "$INSTDIR"
  !insertmacro SetAside "callsupport-app.exe"
  !insertmacro SetAside "callsupport.exe"
  !insertmacro SetAside "callsupport-tray.exe"
  File "${BINDIR}\callsupport-app.exe"
  File "${BINDIR}\callsupport.exe"
  File "${BINDIR}\callsupport-tray.exe"
  File "${BINDIR}\WebView2Loader.dll"
  File "/oname=callsupport.png" "${ICONPNG}"
  SetOutPath "$INSTDIR\policy"
  File "${POLICYDIR}\CallSupport.admx"
  SetOutPath "$INSTDIR\policy\en-US"
  File "${POLICYDIR}\en-US\CallSupport.adml"
  SetOutPath "$INSTDIR"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  ; callsupport:// links (support asking for logs) open the app. What Windows hands over comes
  ; after --, so a link crafted with quotes cannot add options (the app refuses anything more).
  WriteRegStr SHCTX "Software\Classes\callsupport" "" "URL:Call Support link"
  WriteRegStr SHCTX "Software\Classes\callsupport" "URL Protocol" ""
  WriteRegStr SHCTX "Software\Classes\callsupport\DefaultIcon" "" '"$INSTDIR\callsupport-app.exe",0'
  WriteRegStr SHCTX "Software\Classes\callsupport\shell\open\command" "" '"$INSTDIR\callsupport-app.exe" -- "%1"'
  ; Support bundles: "Open with" Call Support for .zip files, never the default.
  WriteRegStr SHCTX "Software\Classes\${PROGID}" "" "Call Support bundle"
  WriteRegStr SHCTX "Software\Classes\${PROGID}\DefaultIcon" "" '"$INSTDIR\callsupport-app.exe",0'
  WriteRegStr SHCTX "Software\Classes\${PROGID}\shell\open\command" "" '"$INSTDIR\callsupport-app.exe" -- "%1"'
  WriteRegStr SHCTX "Software\Classes\.zip\OpenWithProgids" "${PROGID}" ""
  WriteRegStr SHCTX "Software\Classes\Applications\callsupport-app.exe" "FriendlyAppName" "${PRODUCT}"
  WriteRegStr SHCTX "Software\Classes\Applications\callsupport-app.exe\SupportedTypes" ".zip" ""
  WriteRegStr SHCTX "Software\Classes\Applications\callsupport-app.exe\shell\open\command" "" '"$INSTDIR\callsupport-app.exe" -- "%1"'
  ; Notifications say "Call Support", with its icon.
  WriteRegStr SHCTX "Software\Classes\AppUserModelId\${AUMID}" "DisplayName" "${PRODUCT}"
  WriteRegStr SHCTX "Software\Classes\AppUserModelId\${AUMID}" "IconUri" "$INSTDIR\callsupport.png"
  ; The tray agent at sign-in.
  WriteRegStr SHCTX "${RUN_KEY}" "${RUN_VALUE}" '${RUN_COMMAND}'

  CreateShortcut "$SMPROGRAMS\${PRODUCT}.lnk" "$INSTDIR\callsupport-app.exe" "" "$INSTDIR\callsupport-app.exe" 0

  WriteRegStr SHCTX "${UNINSTALL_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "DisplayIcon" '"$INSTDIR\callsupport-app.exe",0'
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD SHCTX "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD SHCTX "${UNINSTALL_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD SHCTX "${UNINSTALL_KEY}" "EstimatedSize" "$0"

  !if "${MODE}" == "user"
    ; The signed-in user's agent starts now, not at the next sign-in.
    ${IfNot} ${Silent}
      Exec '"$INSTDIR\callsupport-tray.exe"'
    ${EndIf}
  !endif
SectionEnd

Section "Uninstall"
  nsExec::Exec 'taskkill /F /IM callsupport-tray.exe'
  Pop $0
  Delete /REBOOTOK "$INSTDIR\callsupport-app.exe"
  Delete /REBOOTOK "$INSTDIR\callsupport.exe"
  Delete /REBOOTOK "$INSTDIR\callsupport-tray.exe"
  Delete "$INSTDIR\*.exe.old"
  Delete /REBOOTOK "$INSTDIR\WebView2Loader.dll"
  Delete "$INSTDIR\callsupport.png"
  Delete "$INSTDIR\policy\en-US\CallSupport.adml"
  RMDir "$INSTDIR\policy\en-US"
  Delete "$INSTDIR\policy\CallSupport.admx"
  RMDir "$INSTDIR\policy"
  Delete "$INSTDIR\uninstall.exe"
  RMDir /REBOOTOK "$INSTDIR"
  Delete "$SMPROGRAMS\${PRODUCT}.lnk"

  DeleteRegKey SHCTX "Software\Classes\callsupport"
  DeleteRegKey SHCTX "Software\Classes\${PROGID}"
  DeleteRegValue SHCTX "Software\Classes\.zip\OpenWithProgids" "${PROGID}"
  DeleteRegKey /IfEmpty SHCTX "Software\Classes\.zip\OpenWithProgids"
  DeleteRegKey /IfEmpty SHCTX "Software\Classes\.zip"
  DeleteRegKey SHCTX "Software\Classes\Applications\callsupport-app.exe"
  DeleteRegKey /IfEmpty SHCTX "Software\Classes\Applications"
  DeleteRegKey SHCTX "Software\Classes\AppUserModelId\${AUMID}"
  DeleteRegKey /IfEmpty SHCTX "Software\Classes\AppUserModelId"
  DeleteRegValue SHCTX "${RUN_KEY}" "${RUN_VALUE}"
  DeleteRegKey SHCTX "${UNINSTALL_KEY}"
  ; A user's hive may have had no other program's entry.
  DeleteRegKey /IfEmpty SHCTX "Software\Microsoft\Windows\CurrentVersion\Uninstall"
  ; Left on purpose: each user's data (%LocalAppData%\callsupport: the outbox, received bundles)
  ; and settings (%AppData%\callsupport), and IT's %ProgramData%\CallSupport\config.toml.
SectionEnd
