package kms

import "testing"

// The KeyID and description of cloud URLs, checked without contacting the
// services.
func TestCloudURLs(t *testing.T) {
	for _, c := range []struct{ url, id string }{
		{"awskms://alias/rempart-root?region=eu-west-3", "kms:awskms://alias/rempart-root"},
		{"awskms:///arn:aws:kms:eu-west-3:111122223333:key/1234abcd?region=eu-west-3&context_app=rempart",
			"kms:awskms:///arn:aws:kms:eu-west-3:111122223333:key/1234abcd"},
		{"gcpkms://projects/p/locations/europe-west1/keyRings/r/cryptoKeys/root", "kms:gcpkms://projects/p/locations/europe-west1/keyRings/r/cryptoKeys/root"},
		{"azurekeyvault://v.vault.azure.net/keys/root/0123abcd?algorithm=RSA-OAEP-256", "kms:azurekeyvault://v.vault.azure.net/keys/root/0123abcd"},
		{"hashivault://rempart-root?engine=transit-prod", "kms:hashivault://rempart-root"},
		{"HashiVault://rempart-root", "kms:hashivault://rempart-root"},
	} {
		tg, err := parseURL(c.url)
		if err != nil {
			t.Errorf("parse %s: %v", c.url, err)
			continue
		}
		if tg.id != c.id {
			t.Errorf("key id of %s: got %s, want %s", c.url, tg.id, c.id)
		}
		if got, want := tg.name, schemes[tg.scheme]+" key "+c.id[len("kms:"):]; got != want {
			t.Errorf("describe %s: got %s, want %s", c.url, got, want)
		}
	}
}
