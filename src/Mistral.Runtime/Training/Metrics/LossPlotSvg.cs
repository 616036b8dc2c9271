using System.Globalization;
using System.Net;
using System.Text;

namespace Mistral.Runtime.Training.Metrics;

/// <summary>
/// Draws <see cref="LossCurves"/> as one self-contained SVG (no scripts, fonts or packages): train loss as a line, eval
/// loss as a line with dots, step on x, loss on y, with ticks, a grid and a legend; the learning rate, when the run
/// logged it, as a dashed line on its own axis at the right (from 0). Opens in any browser.
/// </summary>
public static class LossPlotSvg
{
    private const int Width = 860, Height = 460, Left = 70, Top = 40, Bottom = 50;

    public static string Render(LossCurves curves, string title)
    {
        var all = curves.Train.Concat(curves.Eval).ToList();
        var lr = curves.LearningRate;
        int right = lr.Count > 0 ? 80 : 20;
        if (all.Count == 0) throw new InvalidDataException("no losses to plot yet");
        double xMin = all.Min(p => p.Step), xMax = Math.Max(all.Max(p => p.Step), xMin + 1);
        double yMin = all.Min(p => p.Loss), yMax = all.Max(p => p.Loss);
        if (yMax - yMin < 1e-9) (yMin, yMax) = (yMin - 0.5, yMax + 0.5);
        double pad = (yMax - yMin) * 0.05;
        (yMin, yMax) = (yMin - pad, yMax + pad);

        double X(double step) => Left + (step - xMin) / (xMax - xMin) * (Width - Left - right);
        double Y(double loss) => Top + (yMax - loss) / (yMax - yMin) * (Height - Top - Bottom);
        string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append(CultureInfo.InvariantCulture, $"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{WebUtility.HtmlEncode(title)}</text>\n");
        foreach (var tick in Ticks(yMin, yMax, 6))
        {
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" x2=\"{Width - right}\" y1=\"{F(Y(tick))}\" y2=\"{F(Y(tick))}\" stroke=\"#e5e5e5\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 6}\" y=\"{F(Y(tick) + 4)}\" text-anchor=\"end\">{tick.ToString("G4", CultureInfo.InvariantCulture)}</text>\n");
        }
        foreach (var tick in Ticks(xMin, xMax, 8).Where(t => t == Math.Floor(t)))
        {
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(X(tick))}\" x2=\"{F(X(tick))}\" y1=\"{Top}\" y2=\"{Height - Bottom}\" stroke=\"#f0f0f0\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(X(tick))}\" y=\"{Height - Bottom + 18}\" text-anchor=\"middle\">{tick.ToString("0", CultureInfo.InvariantCulture)}</text>\n");
        }
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Left}\" y=\"{Top}\" width=\"{Width - Left - right}\" height=\"{Height - Top - Bottom}\" fill=\"none\" stroke=\"#888\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{(Left + Width - right) / 2}\" y=\"{Height - 10}\" text-anchor=\"middle\">step</text>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate(16 {(Top + Height - Bottom) / 2}) rotate(-90)\" text-anchor=\"middle\">loss</text>\n");

        void Series(IReadOnlyList<(int Step, double Loss)> points, string color, string name, bool dots, int legendRow)
        {
            if (points.Count == 0) return;
            svg.Append("<polyline fill=\"none\" stroke=\"").Append(color).Append("\" stroke-width=\"2\" points=\"")
               .AppendJoin(' ', points.Select(p => $"{F(X(p.Step))},{F(Y(p.Loss))}")).Append("\"/>\n");
            if (dots)
                foreach (var p in points)
                    svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{F(X(p.Step))}\" cy=\"{F(Y(p.Loss))}\" r=\"3.5\" fill=\"{color}\"><title>step {p.Step}: {p.Loss:G5}</title></circle>\n");
            int ly = Top + 16 + 18 * legendRow;
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Width - right - 150}\" x2=\"{Width - right - 125}\" y1=\"{ly - 4}\" y2=\"{ly - 4}\" stroke=\"{color}\" stroke-width=\"2\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width - right - 118}\" y=\"{ly}\">{name} ({points[^1].Loss:G4})</text>\n");
        }
        Series(curves.Train, "#1f77b4", "train loss", dots: false, 0);
        Series(curves.Eval, "#d62728", "eval loss", dots: true, 1);
        if (lr.Count > 0)
        {
            double lrMax = Math.Max(lr.Max(p => p.Lr), 1e-30);
            double Ylr(double v) => Top + (lrMax - v) / lrMax * (Height - Top - Bottom);
            foreach (var tick in Ticks(0, lrMax, 5))
                svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width - right + 6}\" y=\"{F(Ylr(tick) + 4)}\" fill=\"#ff7f0e\">{tick.ToString("0.##e+0", CultureInfo.InvariantCulture)}</text>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate({Width - 12} {(Top + Height - Bottom) / 2}) rotate(90)\" text-anchor=\"middle\" fill=\"#ff7f0e\">learning rate</text>\n");
            svg.Append("<polyline fill=\"none\" stroke=\"#ff7f0e\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\" points=\"")
               .AppendJoin(' ', lr.Select(p => $"{F(X(p.Step))},{F(Ylr(p.Lr))}")).Append("\"/>\n");
            int ly = Top + 16 + 18 * 2;
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Width - right - 150}\" x2=\"{Width - right - 125}\" y1=\"{ly - 4}\" y2=\"{ly - 4}\" stroke=\"#ff7f0e\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width - right - 118}\" y=\"{ly}\">learning rate</text>\n");
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    // About `count` round tick values (1, 2 or 5 × 10^k apart) covering [lo, hi].
    private static IEnumerable<double> Ticks(double lo, double hi, int count)
    {
        double raw = (hi - lo) / count;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2.0, 5.0, 10.0 }.Select(m => m * magnitude).First(s => s >= raw);
        for (double t = Math.Ceiling(lo / step) * step; t <= hi + 1e-12; t += step)
            yield return Math.Round(t / step) * step;
    }
}
