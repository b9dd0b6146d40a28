// Package kms keeps rempart's root key in a cloud key-management service or
// in HashiCorp Vault's Transit engine (ENC-3), through gocloud.dev/secrets.
//
// A Source is one KMS key, named by a URL. It implements keys.RootKeys with a
// single version, the Source itself (a keys.Provider): the KMS manages and
// rotates the key's versions, so Latest and Open return that one version
// (and Versions lists only its KeyID), Open of any other KeyID is
// keys.ErrNoRootKey, and Create and Destroy return errors wrapping
// keys.ErrUnsupported that say to rotate, disable or delete the key in the
// KMS itself. Open tries one wrap and unwrap, so that missing
// credentials or permissions show when rempart starts.
//
// # Wrapping
//
// A KMS keeper takes no associated data, so Wrap has the KMS encrypt
// SHA-256("rempart/kms-wrap/v1" ‖ 0x00 ‖ ad) ‖ key, and Unwrap compares that
// prefix with the expected one in constant time before it returns the key.
// An altered blob or ad gives keys.ErrDecrypt and nothing more; a KMS that
// cannot be reached, or that refuses access, gives its own error.
//
// KeyID is "kms:" and the URL without its query (for example
// "kms:awskms://alias/rempart-root"), so keep the URL's form stable: the same
// key named by an alias and by an ARN has two KeyIDs.
//
// # URLs
//
// Credentials always come from the environment, never from the URL (a URL
// with user:password@ is refused).
//
// AWS KMS — awskms://<key ID or alias>?region=<region>, or, for an ARN,
// which holds colons, awskms:///<ARN>:
//
//	awskms://alias/rempart-root?region=eu-west-3
//	awskms:///arn:aws:kms:eu-west-3:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
//
// Credentials and region come from the AWS SDK's default chain:
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN),
// AWS_PROFILE with ~/.aws/config, web identity (AWS_ROLE_ARN and
// AWS_WEB_IDENTITY_TOKEN_FILE, as on EKS), or the ECS task or EC2 instance
// role; AWS_REGION when the URL has no region. Other query parameters:
// profile, role (an IAM role to assume), endpoint, fips=true, dualstack=true,
// and context_<name>=<value> for a KMS encryption context (which must then
// never change). The principal needs kms:Encrypt and kms:Decrypt on the key.
// AWS keeps earlier key material after a rotation, so wrapped keys keep
// unwrapping.
//
// Google Cloud KMS — gcpkms://projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>:
//
//	gcpkms://projects/acme-prod/locations/europe-west1/keyRings/rempart/cryptoKeys/root
//
// Credentials are Application Default Credentials: the file that
// GOOGLE_APPLICATION_CREDENTIALS names, the service account of the VM or GKE
// workload, or gcloud auth application-default login. The principal needs
// roles/cloudkms.cryptoKeyEncrypterDecrypter on the key. Decryption finds the
// key version on its own, so rotation needs nothing from rempart.
//
// Azure Key Vault — azurekeyvault://<vault>.vault.azure.net/keys/<key>/<version>?algorithm=<alg>:
//
//	azurekeyvault://acme-prod.vault.azure.net/keys/rempart-root/0123456789abcdef0123456789abcdef
//
// Credentials come from azidentity's DefaultAzureCredential: AZURE_TENANT_ID,
// AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH),
// workload identity (AZURE_FEDERATED_TOKEN_FILE), a managed identity, or az
// login. The principal needs the keys/encrypt and keys/decrypt permissions
// (the Key Vault Crypto User role). algorithm defaults to RSA-OAEP-256. The
// version is required: Key Vault decrypts with the version the URL names,
// so without one every wrapped key would stop unwrapping after a rotation.
// With an RSA key, anyone holding the public key can make a blob that
// unwraps; confidentiality holds, but who made a wrapped key is not proved.
//
// HashiCorp Vault Transit — hashivault://<transit key name>?engine=<mount>:
//
//	hashivault://rempart-root
//	hashivault://rempart-root?engine=transit-prod
//
// The server comes from VAULT_SERVER_URL or VAULT_ADDR, the token from
// VAULT_SERVER_TOKEN or VAULT_TOKEN (use a periodic token renewed outside
// rempart, or a Vault Agent), TLS settings from VAULT_CACERT and its
// siblings. engine is the mount path of the Transit engine (default
// "transit"). The token needs update on transit/encrypt/<key> and
// transit/decrypt/<key>. Vault keeps earlier key versions for decryption
// unless min_decryption_version is raised.
//
// Local key, for tests and development only — base64key://<32 bytes in URL-safe base64>:
//
//	base64key://smGbjm71Nxd1Ig5FS0wj9SlbzAIrnolCz9bQQ6uAhl4=
//
// The key is in the URL itself, so whoever reads the configuration has the
// root key: use the local key file (keys.LocalFile) or a real KMS instead.
// Generate one with: openssl rand -base64 32 | tr '+/' '-_'. Its KeyID is a
// fingerprint, "kms:base64key:" and the first 16 hex digits of the key's
// SHA-256, and no error quotes the URL. An empty base64key:// is refused:
// rempart never makes up a root key.
//
// # Tests
//
// Only base64key is tested here, in unit tests: the cloud services and Vault
// need accounts and network access. The URL checks of every scheme are
// tested without contacting the service.
package kms
