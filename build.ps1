# mistral-cu build entry point: the README's commands, nothing more.
#   ./build.ps1 restore | build | test | bundle
# bundle: the self-contained linux-x64 folder for a GPU machine without .NET (CLI + test executables, each trimmed with
# TrimMode=partial so only the framework is trimmed and xunit still finds its tests, InvariantGlobalization) in .bundle/,
# and its .tar.xz. scripts/bundle.sh does the same from bash (and hard-links the files the apps share);
# scripts/gpu-check.sh runs every GPU check from it.
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
        # as scripts/bundle.sh (which says why): each app trimmed (TrimMode=partial) into its own folder, the tests in
        # kernels-tests/ and runtime-tests/ under the CLI's
        $dir = Join-Path '.bundle' 'mistral-cu-linux-x64'
        if (Test-Path $dir) { Remove-Item -Recurse -Force $dir }
        $apps = [ordered]@{ 'src/Mistral.Cli/Mistral.Cli.csproj' = $dir
                            'tests/Mistral.Kernels.Tests/Mistral.Kernels.Tests.csproj' = (Join-Path $dir 'kernels-tests')
                            'tests/Mistral.Runtime.Tests/Mistral.Runtime.Tests.csproj' = (Join-Path $dir 'runtime-tests') }
        foreach ($project in $apps.Keys) {
            $to = $apps[$project]
            Invoke-Checked dotnet @('publish', $project, '-c', 'Release', '-r', 'linux-x64', '--self-contained', 'true',
                                    '-p:PublishTrimmed=true', '-p:TrimMode=partial', '-p:SuppressTrimAnalysisWarnings=true',
                                    '-p:JsonSerializerIsReflectionEnabledByDefault=true', '-p:UseSystemResourceKeys=false',
                                    '-p:NullabilityInfoContextSupport=true',
                                    '-p:InvariantGlobalization=true', '-p:DebugType=none', '-o', $to)
            # loaded only by a debugger, a tracer or an opt-in GC: left out so the bundle and a checkout fit 64 MiB together
            foreach ($file in @('libmscordaccore.so', 'libmscordbi.so', 'createdump', 'libcoreclrtraceptprovider.so', 'libclrgc.so', 'libclrgcexp.so')) {
                Remove-Item -Force -ErrorAction SilentlyContinue (Join-Path $to $file)
            }
            # ASP.NET Core serves only `serve` and `bench serve`, which the device run does not call (as scripts/bundle.sh)
            Remove-Item -Force -ErrorAction SilentlyContinue (Join-Path $to 'Microsoft.AspNetCore.*.dll')
        }
        (git rev-parse HEAD) | Set-Content (Join-Path $dir 'COMMIT')
        Invoke-Checked tar @('-C', '.bundle', '-cJf', '.bundle/mistral-cu-linux-x64.tar.xz', 'mistral-cu-linux-x64')
    }
}
