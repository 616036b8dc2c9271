using System.Text.Json;

namespace Mistral.Runtime.Tokenizer;

/// <summary>
/// Reads a Hugging Face <c>tokenizer.json</c> holding the Llama/Mistral layout: a BPE model with byte fallback and
/// merges in rank order, and either the legacy normalizer (Prepend '▁', Replace ' '→'▁') or the newer Metaspace
/// pre-tokenizer without splitting. Anything else (byte-level BPE, WordPiece, Unigram, splitting pre-tokenizers)
/// is refused with a message naming the field, rather than encoded differently from the library.
/// Decoding follows SentencePiece's rules, which give the same text as this layout's decoder chain
/// (Replace '▁'→' ', ByteFallback, Fuse, Strip one leading space) on the text the encoder produces.
/// </summary>
public static class HfTokenizerJsonReader
{
    public static SentencePieceBpe Read(string path)
    {
        if (Model.RegularFile.Problem(path) is string problem)
            throw new TokenizerFormatException(path, problem);
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenizerFormatException(path, $"cannot read the tokenizer file ({e.Message})", e);
        }
        return Parse(json, path);
    }

    /// <summary>Parses tokenizer.json text; <paramref name="path"/> only names the source in errors.</summary>
    public static SentencePieceBpe Parse(string json, string path)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowDuplicateProperties = false });
            return Parse(document.RootElement, path);
        }
        catch (JsonException e)
        {
            throw new TokenizerFormatException(path, $"not valid JSON ({e.Message})", e);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or KeyNotFoundException)
        {
            // JsonElement throws these when a value has the wrong kind (a string where a number belongs).
            throw new TokenizerFormatException(path, $"unexpected value in tokenizer.json ({e.Message})", e);
        }
    }

    private static SentencePieceBpe Parse(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new TokenizerFormatException(path, "expected a JSON object at the top level");
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw new TokenizerFormatException(path, "missing the \"model\" object");
        var type = model.TryGetProperty("type", out var typeElement) ? typeElement.GetString() : null;
        if (type != "BPE")
            throw new TokenizerFormatException(path, $"model.type is \"{type}\"; only \"BPE\" (SentencePiece-style) is supported");
        var byteFallback = model.TryGetProperty("byte_fallback", out var fallback) && fallback.ValueKind == JsonValueKind.True;
        var unkToken = model.TryGetProperty("unk_token", out var unk) && unk.ValueKind == JsonValueKind.String ? unk.GetString() : null;

        var texts = ReadVocabulary(model, root, path, out var special);
        var pieces = new Piece[texts.Length];
        for (var id = 0; id < texts.Length; id++)
        {
            var text = texts[id];
            var pieceType = text == unkToken ? PieceType.Unknown
                : byteFallback && SentencePieceSpecValidator.ByteValue(text) >= 0 ? PieceType.Byte
                : special.Contains(id) ? PieceType.Control
                : PieceType.Normal;
            pieces[id] = new Piece(text, 0, pieceType);
        }

        var ids = new Dictionary<string, int>(texts.Length, StringComparer.Ordinal);
        for (var id = 0; id < texts.Length; id++)
            ids.TryAdd(texts[id], id); // duplicates are reported by the validator below, with both ids
        var spec = new SentencePieceSpec(
            pieces,
            ReadNormalizer(root, path),
            byteFallback,
            UnkId: unkToken is not null && ids.TryGetValue(unkToken, out var unkId) ? unkId : throw new TokenizerFormatException(path, "model.unk_token is missing or not in the vocabulary"),
            BosId: ids.GetValueOrDefault("<s>", -1),
            EosId: ids.GetValueOrDefault("</s>", -1),
            SentencePieceSpec.DefaultUnknownSurface);
        SentencePieceSpecValidator.Validate(spec, path);
        var merges = MergeTable.FromRankedMerges(texts, id => pieces[id].Type == PieceType.Normal, ReadMerges(model, path), path);
        return new SentencePieceBpe(spec, merges);
    }

    // model.vocab plus added_tokens, as a dense id → text array; added special tokens are collected as controls.
    private static string[] ReadVocabulary(JsonElement model, JsonElement root, string path, out HashSet<int> special)
    {
        if (!model.TryGetProperty("vocab", out var vocab) || vocab.ValueKind != JsonValueKind.Object)
            throw new TokenizerFormatException(path, "model.vocab is missing or not an object");
        var byId = new Dictionary<int, string>();
        foreach (var entry in vocab.EnumerateObject())
            Add(byId, entry.Value.GetInt32(), entry.Name, path);

        special = [];
        if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
        {
            foreach (var token in added.EnumerateArray())
            {
                var id = token.GetProperty("id").GetInt32();
                var content = token.GetProperty("content").GetString() ?? "";
                if (!byId.TryGetValue(id, out var existing))
                    Add(byId, id, content, path);
                else if (existing != content)
                    throw new TokenizerFormatException(path, $"added token {id} '{content}' disagrees with model.vocab ('{existing}')");
                if (token.TryGetProperty("special", out var isSpecial) && isSpecial.ValueKind == JsonValueKind.True)
                    special.Add(id);
            }
        }

        var texts = new string[byId.Count];
        foreach (var (id, text) in byId)
        {
            if (id < 0 || id >= texts.Length)
                throw new TokenizerFormatException(path, $"token ids are not dense: id {id} with {texts.Length} tokens");
            texts[id] = text;
        }
        return texts;
    }

    private static void Add(Dictionary<int, string> byId, int id, string text, string path)
    {
        if (!byId.TryAdd(id, text))
            throw new TokenizerFormatException(path, $"id {id} is used by both '{byId[id]}' and '{text}'");
    }

    // Merges are "left right" strings (older files) or ["left", "right"] pairs (tokenizers ≥ 0.20).
    private static List<(string Left, string Right)> ReadMerges(JsonElement model, string path)
    {
        if (!model.TryGetProperty("merges", out var merges) || merges.ValueKind != JsonValueKind.Array)
            throw new TokenizerFormatException(path, "model.merges is missing or not an array");
        var list = new List<(string, string)>(merges.GetArrayLength());
        foreach (var merge in merges.EnumerateArray())
        {
            if (merge.ValueKind == JsonValueKind.String)
            {
                var text = merge.GetString()!;
                var space = text.IndexOf(' ', StringComparison.Ordinal);
                if (space <= 0 || space == text.Length - 1 || text.IndexOf(' ', space + 1) >= 0)
                    throw new TokenizerFormatException(path, $"merge {list.Count} is \"{text}\", expected two tokens separated by one space");
                list.Add((text[..space], text[(space + 1)..]));
            }
            else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2)
            {
                list.Add((merge[0].GetString() ?? "", merge[1].GetString() ?? ""));
            }
            else
            {
                throw new TokenizerFormatException(path, $"merge {list.Count} is neither \"a b\" nor [\"a\", \"b\"]");
            }
        }
        return list;
    }

    private static NormalizerSpec ReadNormalizer(JsonElement root, string path)
    {
        var prefix = false;
        var escape = false;
        if (root.TryGetProperty("normalizer", out var normalizer) && normalizer.ValueKind == JsonValueKind.Object)
        {
            foreach (var step in Steps(normalizer, "normalizers"))
            {
                var kind = step.GetProperty("type").GetString();
                if (kind == "Prepend" && step.GetProperty("prepend").GetString() == "\u2581")
                    prefix = true;
                else if (kind == "Replace" && ReplacesSpaceWithMeta(step))
                    escape = true;
                else
                    throw new TokenizerFormatException(path, $"normalizer step \"{kind}\" is not supported (expected Prepend '▁' and Replace ' '→'▁')");
            }
        }
        if (root.TryGetProperty("pre_tokenizer", out var pre) && pre.ValueKind == JsonValueKind.Object)
        {
            foreach (var step in Steps(pre, "pretokenizers"))
            {
                var kind = step.GetProperty("type").GetString();
                var splits = step.TryGetProperty("split", out var split) && split.ValueKind == JsonValueKind.True;
                if (kind != "Metaspace" || splits || step.GetProperty("replacement").GetString() != "\u2581")
                    throw new TokenizerFormatException(path, $"pre_tokenizer \"{kind}\" is not supported (only Metaspace '▁' with split: false)");
                var scheme = step.TryGetProperty("prepend_scheme", out var s) ? s.GetString() : "always";
                prefix |= scheme is "first" or "always";
                escape = true;
            }
        }
        return new NormalizerSpec(AddDummyPrefix: prefix, RemoveExtraWhitespaces: false, EscapeWhitespaces: escape);
    }

    private static IEnumerable<JsonElement> Steps(JsonElement element, string listName) =>
        element.GetProperty("type").GetString() == "Sequence" ? element.GetProperty(listName).EnumerateArray() : [element];

    private static bool ReplacesSpaceWithMeta(JsonElement step) =>
        step.GetProperty("pattern").TryGetProperty("String", out var pattern) && pattern.GetString() == " "
        && step.GetProperty("content").GetString() == "\u2581";
}
