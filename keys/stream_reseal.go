package keys

// ResealStreamHeader returns header with its object key sealed under to
// instead of from, both with associated data ad. The stream's segments stay
// valid as they are: a key rotation re-seals an object without decrypting or
// re-encrypting its content — it writes the new 65-byte header followed by
// the unchanged segment bytes (objects never change in place, so the whole
// object is copied to a new one). It fails with ErrDecrypt if the header
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
