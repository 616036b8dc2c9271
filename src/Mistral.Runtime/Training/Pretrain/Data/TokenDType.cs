namespace Mistral.Runtime.Training.Pretrain.Data;

/// <summary>How a token file stores ids: little-endian uint16 when every id of the vocabulary fits, else uint32.</summary>
public enum TokenDType
{
    UInt16,
    UInt32,
}
