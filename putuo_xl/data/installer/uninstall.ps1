# putuo-xl: removes the 法治政府 desktop add-in of the current Windows user (what install.ps1
# made): the add-in in Excel's list, the trusted location, the add-in file and the Python
# environment. Python itself and the workbooks are left alone.
# Run it through the .cmd file beside it, or: powershell -ExecutionPolicy Bypass -File uninstall.ps1 [-VenvDir D:\putuo-xl\venv]
# Saved as UTF-8 with a byte order mark (Windows PowerShell 5.1 reads a file without one as ANSI).
[CmdletBinding()]
param(
    [string]$VenvDir = ''
)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$AddinName = '@@ADDIN_FILE@@'
$TrustedKeyName = 'putuo-xl'
if (-not $VenvDir) { $VenvDir = Join-Path $env:LOCALAPPDATA 'putuo-xl\venv' }
$AddinsDir = Join-Path $env:APPDATA 'Microsoft\AddIns'
$Target = Join-Path $AddinsDir $AddinName
$Done = New-Object System.Collections.Generic.List[string]

Write-Host '法治政府加載項(putuo-xl)卸載'
if (Get-Process -Name EXCEL -ErrorAction SilentlyContinue) {
    Write-Host '卸載沒有進行:請先關閉所有 Excel 窗口,再運行卸載。' -ForegroundColor Red
    exit 1
}

$versions = @(Get-ChildItem -Path 'HKCU:\Software\Microsoft\Office' -ErrorAction SilentlyContinue |
    Where-Object { $_.PSChildName -match '^1[4-9]\.0$' } | ForEach-Object { $_.PSChildName })
foreach ($v in $versions) {
    # Excel reads OPEN, OPEN1, OPEN2, … : keep the others in order, without a gap
    $key = "HKCU:\Software\Microsoft\Office\$v\Excel\Options"
    if (Test-Path -LiteralPath $key) {
        $props = Get-ItemProperty -LiteralPath $key
        $open = @($props.PSObject.Properties | Where-Object { $_.Name -match '^OPEN(\d*)$' } |
            Sort-Object { if ($_.Name -eq 'OPEN') { 0 } else { [int]$_.Name.Substring(4) + 1 } })
        $keep = @($open | Where-Object { -not ([string]$_.Value).Contains($Target) })
        if ($keep.Count -ne $open.Count) {
            foreach ($p in $open) { Remove-ItemProperty -LiteralPath $key -Name $p.Name }
            for ($i = 0; $i -lt $keep.Count; $i++) {
                if ($i -eq 0) { $name = 'OPEN' } else { $name = 'OPEN' + $i }
                New-ItemProperty -LiteralPath $key -Name $name -Value ([string]$keep[$i].Value) -PropertyType String -Force | Out-Null
            }
            $Done.Add('從 Excel ' + $v + ' 的加載項列表中去掉了 ' + $AddinName)
        }
    }
    $manager = "HKCU:\Software\Microsoft\Office\$v\Excel\Add-in Manager"
    if (Test-Path -LiteralPath $manager) { Remove-ItemProperty -LiteralPath $manager -Name $Target -ErrorAction SilentlyContinue }
    $trusted = "HKCU:\Software\Microsoft\Office\$v\Excel\Security\Trusted Locations\$TrustedKeyName"
    if (Test-Path -LiteralPath $trusted) {
        Remove-Item -LiteralPath $trusted -Recurse
        $Done.Add('去掉了 Excel ' + $v + ' 中 putuo-xl 添加的受信任位置')
    }
}

if (Test-Path -LiteralPath $Target) {
    Remove-Item -LiteralPath $Target -Force
    $Done.Add('刪除了加載項文件 ' + $Target)
}
if (Test-Path -LiteralPath $VenvDir) {
    Remove-Item -LiteralPath $VenvDir -Recurse -Force
    $Done.Add('刪除了 Python 環境 ' + $VenvDir)
}

if ($Done.Count -eq 0) {
    Write-Host '沒有找到需要卸載的內容(加載項沒有安裝,或已經卸載)。'
} else {
    Write-Host '卸載完成。做了這些:' -ForegroundColor Cyan
    foreach ($d in $Done) { Write-Host ('  - ' + $d) }
}
Write-Host 'Python 本身和您的台賬、月報等文件都沒有改動。'
exit 0
