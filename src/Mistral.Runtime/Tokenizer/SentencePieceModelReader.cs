namespace Mistral.Runtime.Tokenizer;

/// <summary>
/// Reads a SentencePiece <c>tokenizer.model</c> (a serialized ModelProto, sentencepiece_model.proto) into a
/// <see cref="SentencePieceSpec"/>. Only the fields a BPE encoder needs are read; every other field is skipped by
/// wire type, so newer SentencePiece versions with extra fields still load.
/// </summary>
public static class SentencePieceModelReader
{
    // ModelProto
    private const int ModelPieces = 1, ModelTrainerSpec = 2, ModelNormalizerSpec = 3;
    // ModelProto.SentencePiece
    private const int PieceText = 1, PieceScore = 2, PieceTypeField = 3;
    // TrainerSpec
    private const int TrainerModelType = 3, TrainerByteFallback = 35, TrainerUnkId = 40, TrainerBosId = 41,
        TrainerEosId = 42, TrainerUnkSurface = 44;
    // NormalizerSpec
    private const int NormName = 1, NormCharsMap = 2, NormAddDummyPrefix = 3, NormRemoveExtraWhitespaces = 4,
        NormEscapeWhitespaces = 5;
    private const int ModelTypeUnigram = 1, ModelTypeBpe = 2;

    public static SentencePieceSpec Read(string path)
    {
        if (Model.RegularFile.Problem(path) is string problem)
            throw new TokenizerFormatException(path, problem);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenizerFormatException(path, $"cannot read the SentencePiece model ({e.Message})", e);
        }
        return Parse(bytes, path);
    }

    /// <summary>Parses ModelProto bytes; <paramref name="path"/> only names the source in errors.</summary>
    public static SentencePieceSpec Parse(ReadOnlySpan<byte> bytes, string path)
    {
        if (bytes.Length == 0)
            throw new TokenizerFormatException(path, "file is empty, expected a SentencePiece ModelProto");

        var pieces = new List<Piece>();
        var trainer = new TrainerFields();
        var normalizer = new NormalizerFields();
        var reader = new ProtobufReader(bytes, path);
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case ModelPieces:
                    reader.Expect(field, wire, ProtobufReader.WireLengthDelimited, "pieces");
                    pieces.Add(ReadPiece(reader.ReadBytes(out var pieceOffset), path, pieceOffset, pieces.Count));
                    break;
                case ModelTrainerSpec:
                    reader.Expect(field, wire, ProtobufReader.WireLengthDelimited, "trainer_spec");
                    trainer = ReadTrainer(reader.ReadBytes(out var trainerOffset), path, trainerOffset);
                    break;
                case ModelNormalizerSpec:
                    reader.Expect(field, wire, ProtobufReader.WireLengthDelimited, "normalizer_spec");
                    normalizer = ReadNormalizer(reader.ReadBytes(out var normOffset), path, normOffset);
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        if (pieces.Count == 0)
            throw new TokenizerFormatException(path, "no pieces found; this is not a SentencePiece model");
        if (trainer.ModelType != ModelTypeBpe)
        {
            var name = trainer.ModelType == ModelTypeUnigram ? "UNIGRAM" : $"type {trainer.ModelType}";
            throw new TokenizerFormatException(path, $"model_type is {name}; only BPE (2) models are supported");
        }
        if (normalizer.HasCharsMap)
            throw new TokenizerFormatException(path,
                $"normalizer '{normalizer.Name}' uses a precompiled character map; only the identity normalizer is supported");

        var spec = new SentencePieceSpec(
            pieces,
            new NormalizerSpec(normalizer.AddDummyPrefix, normalizer.RemoveExtraWhitespaces, normalizer.EscapeWhitespaces),
            trainer.ByteFallback,
            trainer.UnkId,
            trainer.BosId,
            trainer.EosId,
            trainer.UnknownSurface);
        SentencePieceSpecValidator.Validate(spec, path);
        return spec;
    }

    private static Piece ReadPiece(ReadOnlySpan<byte> bytes, string path, int offset, int id)
    {
        string? text = null;
        float score = 0;
        var type = PieceType.Normal; // proto default
        var reader = new ProtobufReader(bytes, path, offset);
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case PieceText:
                    reader.Expect(field, wire, ProtobufReader.WireLengthDelimited, "piece");
                    text = reader.ReadString();
                    break;
                case PieceScore:
                    reader.Expect(field, wire, ProtobufReader.WireFixed32, "score");
                    score = reader.ReadFloat();
                    break;
                case PieceTypeField:
                    reader.Expect(field, wire, ProtobufReader.WireVarint, "type");
                    var value = reader.ReadVarint();
                    if (value is < 1 or > 6)
                        throw new TokenizerFormatException(path, $"piece {id} has type {value}, expected 1..6");
                    type = (PieceType)value;
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
        if (string.IsNullOrEmpty(text))
            throw new TokenizerFormatException(path, $"piece {id} has no text");
        return new Piece(text, score, type);
    }

    private static TrainerFields ReadTrainer(ReadOnlySpan<byte> bytes, string path, int offset)
    {
        var fields = new TrainerFields();
        var reader = new ProtobufReader(bytes, path, offset);
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case TrainerModelType: fields.ModelType = (int)ReadVarint(ref reader, field, wire, "model_type"); break;
                case TrainerByteFallback: fields.ByteFallback = ReadVarint(ref reader, field, wire, "byte_fallback") != 0; break;
                case TrainerUnkId: fields.UnkId = (int)ReadVarint(ref reader, field, wire, "unk_id"); break;
                case TrainerBosId: fields.BosId = (int)ReadVarint(ref reader, field, wire, "bos_id"); break;
                case TrainerEosId: fields.EosId = (int)ReadVarint(ref reader, field, wire, "eos_id"); break;
                case TrainerUnkSurface:
                    reader.Expect(field, wire, ProtobufReader.WireLengthDelimited, "unk_surface");
                    fields.UnknownSurface = reader.ReadString();
                    break;
                default: reader.Skip(wire); break;
            }
        }
        return fields;
    }

    private static NormalizerFields ReadNormalizer(ReadOnlySpan<byte> bytes, string path, int offset)
    {
        var fields = new NormalizerFields();
        var reader = new ProtobufReader(bytes, path, offset);
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case NormName:
                    reader.Expect(field, wire, ProtobufReader.WireLengthDelimited, "name");
                    fields.Name = reader.ReadString();
                    break;
                case NormCharsMap:
                    reader.Expect(field, wire, ProtobufReader.WireLengthDelimited, "precompiled_charsmap");
                    fields.HasCharsMap = reader.ReadBytes(out _).Length > 0;
                    break;
                case NormAddDummyPrefix: fields.AddDummyPrefix = ReadVarint(ref reader, field, wire, "add_dummy_prefix") != 0; break;
                case NormRemoveExtraWhitespaces: fields.RemoveExtraWhitespaces = ReadVarint(ref reader, field, wire, "remove_extra_whitespaces") != 0; break;
                case NormEscapeWhitespaces: fields.EscapeWhitespaces = ReadVarint(ref reader, field, wire, "escape_whitespaces") != 0; break;
                default: reader.Skip(wire); break;
            }
        }
        return fields;
    }

    // int32 fields are varints; negative values (pad_id = -1) arrive sign-extended to 64 bits, so the cast keeps them.
    private static ulong ReadVarint(ref ProtobufReader reader, int field, int wire, string name)
    {
        reader.Expect(field, wire, ProtobufReader.WireVarint, name);
        return reader.ReadVarint();
    }

    // Defaults are those of sentencepiece_model.proto, used when a field is absent.
    private sealed class TrainerFields
    {
        public int ModelType = ModelTypeUnigram;
        public bool ByteFallback;
        public int UnkId;
        public int BosId = 1;
        public int EosId = 2;
        public string UnknownSurface = SentencePieceSpec.DefaultUnknownSurface;
    }

    private sealed class NormalizerFields
    {
        public string Name = "";
        public bool HasCharsMap;
        public bool AddDummyPrefix = true;
        public bool RemoveExtraWhitespaces = true;
        public bool EscapeWhitespaces = true;
    }
}
