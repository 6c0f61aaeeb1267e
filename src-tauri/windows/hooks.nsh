; Call Support: hooks into Tauri's NSIS installer (bundle.windows.nsis.installerHooks).
;
; Silent, per-machine deployment with the organisation's configuration:
;
;   "Call Support_0.1.0_x64-setup.exe" /S /CONFIG=\\server\share\callsupport\config.toml
;
; copies that file to %ProgramData%\CallSupport\config.toml (the machine-wide file), registers
; the tray agent to start at every user's sign-in and the app for callsupport:// links.
; Uninstalling removes both registrations; the
; machine-wide file stays (it is IT's), and each user's data goes only when "Delete the
; application data" is ticked.

!include "FileFunc.nsh"

!macro NSIS_HOOK_POSTINSTALL
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/CONFIG=" $R1
  ${IfNot} ${Errors}
    CreateDirectory "$COMMONAPPDATA\CallSupport"
    ClearErrors
    CopyFiles /SILENT "$R1" "$COMMONAPPDATA\CallSupport\config.toml"
    ${If} ${Errors}
      MessageBox MB_ICONSTOP "Call Support cannot copy the configuration $R1 to $COMMONAPPDATA\CallSupport\config.toml. Check the path and run the installer again." /SD IDOK
      SetErrorLevel 2
      Quit
    ${EndIf}
  ${EndIf}
  WriteRegStr HKLM "Software\Microsoft\Windows\CurrentVersion\Run" "CallSupport" '"$INSTDIR\callsupport-tray.exe"'
  ; callsupport:// links (support asking for logs) open the app.
  WriteRegStr HKLM "Software\Classes\callsupport" "" "URL:Call Support link"
  WriteRegStr HKLM "Software\Classes\callsupport" "URL Protocol" ""
  WriteRegStr HKLM "Software\Classes\callsupport\DefaultIcon" "" '"$INSTDIR\callsupport-app.exe",0'
  WriteRegStr HKLM "Software\Classes\callsupport\shell\open\command" "" '"$INSTDIR\callsupport-app.exe" "%1"'
!macroend

!macro NSIS_HOOK_POSTUNINSTALL
  ${If} $UpdateMode <> 1
    DeleteRegValue HKLM "Software\Microsoft\Windows\CurrentVersion\Run" "CallSupport"
    DeleteRegKey HKLM "Software\Classes\callsupport"
  ${EndIf}
  ${If} $DeleteAppDataCheckboxState = 1
  ${AndIf} $UpdateMode <> 1
    ; The app's data (%LocalAppData%\callsupport) and the user's own settings
    ; (%AppData%\callsupport), which are not under the bundle id Tauri removes.
    SetShellVarContext current
    RMDir /r "$LOCALAPPDATA\callsupport"
    RMDir /r "$APPDATA\callsupport"
    SetShellVarContext all
  ${EndIf}
!macroend
