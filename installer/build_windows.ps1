<#
.SYNOPSIS
Build the Windows VALL-E Studio bundle (a self-contained folder) and optionally smoke-test it.

.DESCRIPTION
    powershell -ExecutionPolicy Bypass -File installer\build_windows.ps1 [-Flavour cpu|cuda] [-Smoke] [-Archive]

Output: dist\<flavour>\valle-studio\ holding valle-studio.exe (the app, no console window),
valle-studio-cli.exe (console) and their shared _internal\ folder. -Archive also writes
dist\valle-studio-<version>-windows-x64-<flavour>.zip.
Needs the project's venv (PYTHON, default .venv\Scripts\python.exe; create it with
"py -3.11 installer\bootstrap.py setup"). PyPI's torch for Windows is CPU-only, so the cpu flavour
needs nothing else. For -Flavour cuda, first install a CUDA build of torch into the venv from
PyTorch's CUDA wheel index (see installer\README.md). PortAudio and libsndfile come inside the
sounddevice and soundfile wheels, espeak-ng inside espeakng-loader: no system packages are needed.
#>
param(
    [ValidateSet("cpu", "cuda")] [string] $Flavour = "cpu",
    [switch] $Smoke,
    [switch] $Archive
)
$ErrorActionPreference = "Stop"

$Root = Split-Path -Parent $PSScriptRoot
Set-Location $Root
$Python = if ($env:PYTHON) { $env:PYTHON } else { Join-Path $Root ".venv\Scripts\python.exe" }
function Say([string] $Message) { Write-Host "[build_windows] $Message" }

if (-not (Test-Path $Python)) { throw "No Python at $Python (run: py -3.11 installer\bootstrap.py setup)" }
& $Python -c "import PyInstaller" 2>$null
if ($LASTEXITCODE -ne 0) {
    Say "installing PyInstaller into the venv"
    & $Python -m pip install -q "pyinstaller>=6.11"
    if ($LASTEXITCODE -ne 0) { throw "pip could not install PyInstaller" }
}

$Version = (& $Python -c "import valle_studio; print(valle_studio.__version__)").Trim()
$Dist = Join-Path $Root "dist\$Flavour"
$Work = Join-Path $Root "build\pyinstaller-$Flavour"
$Bundle = Join-Path $Dist "valle-studio"
Say "VALL-E Studio $Version, flavour $Flavour -> $Bundle"

$env:VALLE_STUDIO_FLAVOUR = $Flavour
$Clock = [System.Diagnostics.Stopwatch]::StartNew()
& $Python -m PyInstaller --noconfirm --clean --log-level WARN --distpath $Dist --workpath $Work `
    (Join-Path $Root "installer\valle_studio.spec")
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed with exit code $LASTEXITCODE" }
$Clock.Stop()

$Bytes = (Get-ChildItem $Bundle -Recurse -File | Measure-Object -Property Length -Sum).Sum
Say ("built in {0:N0} s; bundle size {1:N0} MB ({2})" -f $Clock.Elapsed.TotalSeconds, ($Bytes / 1MB), $Bundle)

if ($Archive) {
    $Zip = Join-Path $Root "dist\valle-studio-$Version-windows-x64-$Flavour.zip"
    Say "packing $Zip"
    if (Test-Path $Zip) { Remove-Item $Zip }
    Compress-Archive -Path $Bundle -DestinationPath $Zip -CompressionLevel Optimal
}

if ($Smoke) {
    & $Python (Join-Path $Root "installer\smoke_test.py") --bundle $Bundle
    if ($LASTEXITCODE -ne 0) { throw "smoke test failed" }
}
