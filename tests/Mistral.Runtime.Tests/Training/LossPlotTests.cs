using System.Xml.Linq;
using Mistral.Runtime.Training.Metrics;
using Xunit;

namespace Mistral.Runtime.Tests.Training;

public sealed class LossPlotTests : IDisposable
{
    private readonly string _run = Directory.CreateTempSubdirectory("plot-tests").FullName;

    public void Dispose() => Directory.Delete(_run, recursive: true);

    [Fact]
    public void Read_ResumedRunKeepsTheLastValueOfAStep_AndSvgHasOnePointPerStep()
    {
        File.WriteAllLines(Path.Combine(_run, MetricsLog.FileName),
        [
            """{"step":0,"eval_loss":10.0,"eval_perplexity":22026.5}""",
            """{"step":1,"train_loss":9.0,"lr":0.1}""",
            """{"step":2,"train_loss":8.0,"lr":0.1}""",
            """{"step":2,"train_loss":7.5,"lr":0.05}""", // logged again after a resume
            """{"step":2,"eval_loss":7.0,"eval_perplexity":1096.6}""",
        ]);
        var curves = LossCurves.Read(_run);
        Assert.Equal([(1, 9.0), (2, 7.5)], curves.Train);
        Assert.Equal([(0, 10.0), (2, 7.0)], curves.Eval);
        Assert.Equal([(1, 0.1), (2, 0.05)], curves.LearningRate);

        var svg = XDocument.Parse(LossPlotSvg.Render(curves, "run"));   // well-formed XML
        XNamespace ns = "http://www.w3.org/2000/svg";
        var lines = svg.Descendants(ns + "polyline").ToList();
        Assert.Equal(3, lines.Count); // train loss, eval loss, learning rate
        Assert.Equal(2, lines[0].Attribute("points")!.Value.Split(' ').Length);
        Assert.Equal(2, lines[2].Attribute("points")!.Value.Split(' ').Length);
        Assert.Equal(2, svg.Descendants(ns + "circle").Count());
    }

    [Fact]
    public void Read_BadLine_NamesFileAndLine()
    {
        File.WriteAllLines(Path.Combine(_run, MetricsLog.FileName), ["""{"step":1,"train_loss":2}""", "oops"]);
        var e = Assert.Throws<InvalidDataException>(() => LossCurves.Read(_run));
        Assert.Contains("metrics.jsonl:2", e.Message);
    }
}
