@echo off
rem putuo-xl: runs uninstall.ps1 beside this file.
powershell.exe -NoProfile -ExecutionPolicy Bypass -File "%~dp0uninstall.ps1" %*
pause
