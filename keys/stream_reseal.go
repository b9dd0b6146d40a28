package keys

// ResealStreamHeader returns header with its object key sealed under to
// instead of from, both with associated data ad: the stream's segments stay
// as they are, so a key rotation re-seals a large object by rewriting its 65
// bytes of header, not its content. It fails with ErrDecrypt if the header
// does not open under from.
func ResealStreamHeader(header []byte, from, to DataKey, ad []byte) ([]byte, error) {
	if err := checkStreamKey(from); err != nil {
		return nil, err
	}
	if err := checkStreamKey(to); err != nil {
		return nil, err
	}
	if len(header) != StreamHeaderSize || string(header[:len(streamPrefix)]) != streamPrefix {
		return nil, ErrDecrypt
	}
	key, err := Open(from.AEAD, header[len(streamPrefix):], streamHeaderAD(ad))
	if err != nil {
		return nil, ErrDecrypt
	}
	defer clear(key)
	h := make([]byte, 0, StreamHeaderSize)
	h = append(h, streamPrefix...)
	return append(h, Seal(to.AEAD, key, streamHeaderAD(ad))...), nil
}
