// Package saml is the deployment's SAML 2.0 service provider for single
// sign-on (IAM-5), with github.com/crewjam/saml (ADR 0013): metadata of the
// service provider, identity providers' metadata checked, signed
// authentication requests (HTTP-Redirect binding, or HTTP-POST for an
// identity provider without it), and responses (HTTP-POST binding) verified: signature by the identity provider's certificate,
// issuer, destination, recipient, audience, validity times and InResponseTo.
package saml

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/rempart/rempart/identity"
)

// MaxMetadata bounds an identity provider's metadata document.
const MaxMetadata = 256 << 10

// maxResponse bounds a posted SAMLResponse (base64).
const maxResponse = 256 << 10

// ServiceProvider implements identity.SAML for one entity ID, signing key
// and assertion consumer service.
type ServiceProvider struct {
	entityID string
	acs      url.URL
	key      *rsa.PrivateKey
	cert     *x509.Certificate
	// HTTP fetches metadata; one with a 10-second timeout when nil.
	HTTP *http.Client
}

var _ identity.SAML = (*ServiceProvider)(nil)

// New returns the service provider whose entity ID (also where its metadata
// is served) and assertion consumer service are given, signing with key
// (PKCS #8 DER, RSA) under the certificate certDER.
func New(entityID, acsURL string, keyDER, certDER []byte) (*ServiceProvider, error) {
	acs, err := url.Parse(acsURL)
	if err != nil || acs.Host == "" {
		return nil, errors.New("saml: the assertion consumer service must be an absolute URL")
	}
	k, err := x509.ParsePKCS8PrivateKey(keyDER)
	if err != nil {
		return nil, fmt.Errorf("saml: key: %w", err)
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("saml: the key must be RSA")
	}
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, fmt.Errorf("saml: certificate: %w", err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, errors.New("saml: the certificate is not the key's")
	}
	return &ServiceProvider{entityID: entityID, acs: *acs, key: key, cert: cert}, nil
}

// GenerateKey makes a service provider's signing key (RSA 3072, PKCS #8
// DER) and a self-signed certificate for it (DER), valid for 20 years: SAML
// peers trust the certificate found in metadata, not a chain.
func GenerateKey(commonName string) (keyDER, certDER []byte, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: commonName},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(20, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}
	if certDER, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key); err != nil {
		return nil, nil, err
	}
	keyDER, err = x509.MarshalPKCS8PrivateKey(key)
	return keyDER, certDER, err
}

// EntityID is the service provider's entity ID.
func (s *ServiceProvider) EntityID() string { return s.entityID }

// ACSURL is the assertion consumer service.
func (s *ServiceProvider) ACSURL() string { return s.acs.String() }

// sp is crewjam's service provider for the identity provider md (nil for
// the metadata alone). Unsolicited responses are refused; an assertion's
// audience must name this service provider.
func (s *ServiceProvider) sp(md *saml.EntityDescriptor) *saml.ServiceProvider {
	sp := &saml.ServiceProvider{EntityID: s.entityID, Key: s.key, Certificate: s.cert, AcsURL: s.acs,
		IDPMetadata: md, AuthnNameIDFormat: saml.UnspecifiedNameIDFormat, SignatureMethod: dsig.RSASHA256SignatureMethod,
		AllowIDPInitiated: false, HTTPClient: s.HTTP}
	sp.ValidateAudienceRestriction = func(a *saml.Assertion) error {
		// crewjam accepts an assertion without any audience restriction;
		// this service provider requires one naming it.
		for _, ar := range a.Conditions.AudienceRestrictions {
			if ar.Audience.Value == s.entityID {
				return nil
			}
		}
		return fmt.Errorf("audience is not %q", s.entityID)
	}
	return sp
}

// Metadata is the service provider's metadata document, for identity
// providers: entity ID, signing certificate, the assertion consumer service
// (HTTP-POST binding only), signed requests, signed assertions wanted; no
// encryption key.
func (s *ServiceProvider) Metadata() ([]byte, error) {
	ed := s.sp(nil).Metadata()
	for i := range ed.SPSSODescriptors {
		d := &ed.SPSSODescriptors[i]
		acs := d.AssertionConsumerServices[:0]
		for _, e := range d.AssertionConsumerServices {
			if e.Binding == saml.HTTPPostBinding {
				acs = append(acs, e)
			}
		}
		d.AssertionConsumerServices = acs
		// Assertions are signed, not encrypted (TLS carries them): no
		// encryption key is offered.
		kds := d.KeyDescriptors[:0]
		for _, kd := range d.KeyDescriptors {
			if kd.Use == "signing" {
				kds = append(kds, kd)
			}
		}
		d.KeyDescriptors = kds
	}
	b, err := xml.MarshalIndent(ed, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), b...), nil
}

var errMetadata = errors.New("not the metadata of a SAML 2.0 identity provider: it needs an entity ID, a single sign-on service with the HTTP-Redirect or HTTP-POST binding and a signing certificate")

// parse reads an identity provider's metadata: one EntityDescriptor.
func parse(metadata []byte) (*saml.EntityDescriptor, error) {
	if len(metadata) == 0 || len(metadata) > MaxMetadata {
		return nil, fmt.Errorf("the metadata must be 1 to %d bytes", MaxMetadata)
	}
	md := new(saml.EntityDescriptor)
	if err := xml.Unmarshal(metadata, md); err != nil {
		return nil, errMetadata
	}
	return md, nil
}

// ParseIdPMetadata checks an identity provider's metadata.
func (s *ServiceProvider) ParseIdPMetadata(metadata []byte) (identity.SAMLIdP, error) {
	md, err := parse(metadata)
	if err != nil {
		return identity.SAMLIdP{}, err
	}
	if md.EntityID == "" || len(md.EntityID) > 1024 || len(md.IDPSSODescriptors) != 1 {
		return identity.SAMLIdP{}, errMetadata
	}
	_, sso := ssoService(s.sp(md))
	u, err := url.Parse(sso)
	if sso == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return identity.SAMLIdP{}, errMetadata
	}
	if !hasSigningCert(md) {
		return identity.SAMLIdP{}, errMetadata
	}
	return identity.SAMLIdP{EntityID: md.EntityID, SSOURL: sso}, nil
}

// hasSigningCert says whether the identity provider publishes a parseable
// signing certificate (a key descriptor for signing, or for any use).
func hasSigningCert(md *saml.EntityDescriptor) bool {
	for _, d := range md.IDPSSODescriptors {
		for _, kd := range d.KeyDescriptors {
			if kd.Use != "" && kd.Use != "signing" {
				continue
			}
			for _, c := range kd.KeyInfo.X509Data.X509Certificates {
				der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c.Data), ""))
				if err != nil {
					continue
				}
				if _, err := x509.ParseCertificate(der); err == nil {
					return true
				}
			}
		}
	}
	return false
}

// FetchIdPMetadata fetches a metadata document from an https URL.
func (s *ServiceProvider) FetchIdPMetadata(ctx context.Context, raw string, loopbackHTTP bool) ([]byte, error) {
	allowed := func(u *url.URL) bool {
		if u.Host == "" || u.User != nil {
			return false
		}
		return u.Scheme == "https" || loopbackHTTP && u.Scheme == "http" && identity.IsLoopback(u.Hostname())
	}
	u, err := url.Parse(raw)
	if err != nil || !allowed(u) || u.Fragment != "" || len(raw) > 2048 {
		return nil, errors.New("the metadata URL must be an https URL")
	}
	c := &http.Client{Timeout: 10 * time.Second}
	if s.HTTP != nil {
		*c = *s.HTTP
	}
	// A redirect must stay on https too.
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 || !allowed(req.URL) {
			return errors.New("redirected elsewhere than to an https URL")
		}
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, errors.New("the metadata could not be fetched")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the metadata URL answered %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxMetadata+1))
	if err != nil || len(b) > MaxMetadata {
		return nil, fmt.Errorf("the metadata could not be read, or is larger than %d bytes", MaxMetadata)
	}
	return b, nil
}

// ssoService is the identity provider's single sign-on service: with the
// HTTP-Redirect binding when it offers one, else with HTTP-POST.
func ssoService(sp *saml.ServiceProvider) (binding, location string) {
	if l := sp.GetSSOBindingLocation(saml.HTTPRedirectBinding); l != "" {
		return saml.HTTPRedirectBinding, l
	}
	return saml.HTTPPostBinding, sp.GetSSOBindingLocation(saml.HTTPPostBinding)
}

// AuthnRequest is the signed authentication request requestID: a query
// signature for the HTTP-Redirect binding, an enveloped XML signature for
// HTTP-POST.
func (s *ServiceProvider) AuthnRequest(metadata []byte, requestID string) (identity.SAMLRequest, error) {
	md, err := parse(metadata)
	if err != nil {
		return identity.SAMLRequest{}, err
	}
	sp := s.sp(md)
	binding, location := ssoService(sp)
	if location == "" {
		return identity.SAMLRequest{}, errMetadata
	}
	req, err := sp.MakeAuthenticationRequest(location, binding, saml.HTTPPostBinding)
	if err != nil {
		return identity.SAMLRequest{}, err
	}
	req.ID = requestID
	if binding == saml.HTTPPostBinding {
		// The ID is part of what is signed: sign again with ours.
		req.Signature = nil
		if err := sp.SignAuthnRequest(req); err != nil {
			return identity.SAMLRequest{}, err
		}
		doc := etree.NewDocument()
		doc.SetRoot(req.Element())
		b, err := doc.WriteToBytes()
		if err != nil {
			return identity.SAMLRequest{}, err
		}
		return identity.SAMLRequest{URL: location, Form: map[string]string{"SAMLRequest": base64.StdEncoding.EncodeToString(b)}}, nil
	}
	u, err := req.Redirect("", sp)
	if err != nil {
		return identity.SAMLRequest{}, err
	}
	return identity.SAMLRequest{URL: u.String()}, nil
}

// decode reads a posted SAMLResponse.
func decode(samlResponse string) ([]byte, error) {
	if samlResponse == "" || len(samlResponse) > maxResponse {
		return nil, errors.New("no SAML response, or one too large")
	}
	return base64.StdEncoding.DecodeString(strings.Join(strings.Fields(samlResponse), ""))
}

// InResponseTo reads the request a response answers, unverified.
func (s *ServiceProvider) InResponseTo(samlResponse string) (string, error) {
	raw, err := decode(samlResponse)
	if err != nil {
		return "", err
	}
	var r struct {
		XMLName      xml.Name
		InResponseTo string `xml:"InResponseTo,attr"`
	}
	if err := xml.Unmarshal(raw, &r); err != nil {
		return "", errors.New("the SAML response is not XML")
	}
	if r.XMLName.Space != "urn:oasis:names:tc:SAML:2.0:protocol" || r.XMLName.Local != "Response" {
		return "", errors.New("not a SAML response")
	}
	return r.InResponseTo, nil
}

// Verify checks a response to requestID from the identity provider md.
func (s *ServiceProvider) Verify(metadata []byte, samlResponse, requestID string) (_ identity.SAMLIdentity, err error) {
	// crewjam dereferences an assertion's optional parts (subject,
	// conditions, confirmation data) once its signature is verified: a
	// signed but incomplete assertion must fail, not crash the request.
	defer func() {
		if recover() != nil {
			err = errors.New("malformed assertion")
		}
	}()
	md, err := parse(metadata)
	if err != nil {
		return identity.SAMLIdentity{}, err
	}
	raw, err := decode(samlResponse)
	if err != nil {
		return identity.SAMLIdentity{}, err
	}
	if requestID == "" {
		return identity.SAMLIdentity{}, errors.New("unsolicited response")
	}
	// The response itself must name this assertion consumer service as
	// its destination (crewjam lets an unsigned response omit it).
	var r struct {
		Destination  string `xml:"Destination,attr"`
		InResponseTo string `xml:"InResponseTo,attr"`
	}
	if err := xml.Unmarshal(raw, &r); err != nil {
		return identity.SAMLIdentity{}, errors.New("the SAML response is not XML")
	}
	if r.Destination != s.acs.String() {
		return identity.SAMLIdentity{}, fmt.Errorf("destination %q is not the assertion consumer service", clip(r.Destination))
	}
	if r.InResponseTo != requestID {
		return identity.SAMLIdentity{}, errors.New("response to another request")
	}
	a, err := s.sp(md).ParseXMLResponse(raw, []string{requestID}, s.acs)
	if err != nil {
		var ire *saml.InvalidResponseError
		if errors.As(err, &ire) && ire.PrivateErr != nil {
			err = ire.PrivateErr
		}
		return identity.SAMLIdentity{}, err
	}
	// crewjam checks each subject confirmation's recipient, InResponseTo
	// and expiry; an assertion must have one (bearer) to be bound to this
	// request at all.
	if a.Subject == nil || a.Subject.NameID == nil || len(a.Subject.SubjectConfirmations) == 0 {
		return identity.SAMLIdentity{}, errors.New("assertion without subject, NameID or subject confirmation")
	}
	for _, sc := range a.Subject.SubjectConfirmations {
		if sc.Method != "urn:oasis:names:tc:SAML:2.0:cm:bearer" || sc.SubjectConfirmationData == nil {
			return identity.SAMLIdentity{}, errors.New("subject confirmation is not bearer")
		}
	}
	if a.Conditions == nil || a.Conditions.NotOnOrAfter.IsZero() {
		return identity.SAMLIdentity{}, errors.New("assertion without validity conditions")
	}
	id := identity.SAMLIdentity{Issuer: md.EntityID, NameID: a.Subject.NameID.Value, NameIDFormat: a.Subject.NameID.Format, Attributes: map[string][]string{}}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			for _, v := range at.Values {
				id.Attributes[at.Name] = append(id.Attributes[at.Name], v.Value)
			}
		}
	}
	return id, nil
}

func clip(s string) string {
	if len(s) > 100 {
		return s[:100]
	}
	return s
}
