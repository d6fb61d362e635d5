@echo off
rem putuo-xl: runs install.ps1 beside this file (Windows PowerShell 5.1, no administrator rights).
powershell.exe -NoProfile -ExecutionPolicy Bypass -File "%~dp0install.ps1" %*
pause
