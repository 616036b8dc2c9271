namespace Mistral.Runtime.Tokenizer;

/// <summary>One vocabulary entry: its text (with '▁' for spaces), SentencePiece score and type. The id is its index.</summary>
public readonly record struct Piece(string Text, float Score, PieceType Type);
