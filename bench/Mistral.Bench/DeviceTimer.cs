using System.Diagnostics;
using Mistral.Kernels.Device;

namespace Mistral.Bench;

/// <summary>
/// Times device work: the device's own events where it has them (CUDA) (what the device spent, launch gaps included), a stopwatch around a
/// synchronised run on the emulator. Warm-up runs first, then the median of the measured repetitions.
/// </summary>
public static class DeviceTimer
{
    /// <summary>
    /// Median milliseconds of one call of <paramref name="body"/>, each sample timing <paramref name="inner"/> calls back
    /// to back; <paramref name="beforeEach"/> (e.g. an L2 flush) is issued before each sample, outside its timed region.
    /// </summary>
    public static double MedianMs(IDevice device, Action body, int warmup, int repetitions, int inner = 1, Action? beforeEach = null)
    {
        for (int i = 0; i < warmup; i++) body();
        device.Synchronize();
        var samples = new double[repetitions];
        for (int r = 0; r < repetitions; r++)
        {
            beforeEach?.Invoke();
            void Run()
            {
                for (int i = 0; i < inner; i++) body();
            }
            if (device.Timer is { } timer)
            {
                samples[r] = timer.Time(Run) / inner;
            }
            else
            {
                device.Synchronize();
                var watch = Stopwatch.StartNew();
                Run();
                device.Synchronize();
                samples[r] = watch.Elapsed.TotalMilliseconds / inner;
            }
        }
        Array.Sort(samples);
        return samples[repetitions / 2];
    }
}
