# mistral-cu build entry point: the README's commands, nothing more.
#   ./build.ps1 restore | build | test | bundle
# bundle: the self-contained linux-x64 folder for a GPU machine without .NET (CLI + test executables sharing one
# runtime, InvariantGlobalization, untrimmed so xunit finds its tests) in .bundle/, and its .tar.xz. scripts/bundle.sh
# does the same from bash; scripts/gpu-check.sh runs every GPU check from it.
param([ValidateSet('restore', 'build', 'test', 'bundle')][string]$Target = 'build')
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'

function Invoke-Checked([string]$Exe, [string[]]$Arguments) {
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Exe $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

switch ($Target) {
    'restore' { Invoke-Checked dotnet @('restore', 'Mistral.sln') }
    'build'   { Invoke-Checked dotnet @('build', 'Mistral.sln') }
    'test'    { Invoke-Checked dotnet @('test', 'Mistral.sln') }
    'bundle' {
        $dir = Join-Path '.bundle' 'mistral-cu-linux-x64'
        if (Test-Path $dir) { Remove-Item -Recurse -Force $dir }
        foreach ($project in @('src/Mistral.Cli/Mistral.Cli.csproj',
                               'tests/Mistral.Kernels.Tests/Mistral.Kernels.Tests.csproj',
                               'tests/Mistral.Runtime.Tests/Mistral.Runtime.Tests.csproj')) {
            Invoke-Checked dotnet @('publish', $project, '-c', 'Release', '-r', 'linux-x64', '--self-contained', 'true',
                                    '-p:PublishTrimmed=false', '-p:InvariantGlobalization=true', '-p:DebugType=none', '-o', $dir)
        }
        # loaded only by a debugger, a tracer or an opt-in GC: left out so the bundle and a checkout fit 64 MiB together
        foreach ($file in @('libmscordaccore.so', 'libmscordbi.so', 'createdump', 'libcoreclrtraceptprovider.so', 'libclrgc.so', 'libclrgcexp.so')) {
            Remove-Item -Force -ErrorAction SilentlyContinue (Join-Path $dir $file)
        }
        # ASP.NET Core serves only `serve` and `bench serve`, which the device run does not call (as scripts/bundle.sh)
        Remove-Item -Force -ErrorAction SilentlyContinue (Join-Path $dir 'Microsoft.AspNetCore.*.dll')
        (git rev-parse HEAD) | Set-Content (Join-Path $dir 'COMMIT')
        Invoke-Checked tar @('-C', '.bundle', '-cJf', '.bundle/mistral-cu-linux-x64.tar.xz', 'mistral-cu-linux-x64')
    }
}
