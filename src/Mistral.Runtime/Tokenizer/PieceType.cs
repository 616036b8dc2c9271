namespace Mistral.Runtime.Tokenizer;

/// <summary>SentencePiece's piece types, with the values of sentencepiece_model.proto's SentencePiece.Type.</summary>
public enum PieceType
{
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}
