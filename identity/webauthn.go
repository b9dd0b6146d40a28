package identity

// WebAuthnConfig is the relying party of security keys (IAM-4).
type WebAuthnConfig struct {
	// RPID is the relying party ID, the console's host name
	// ("localhost" by default).
	RPID string
	// Origins are the console's origins, such as "https://localhost:8443".
	Origins []string
}
