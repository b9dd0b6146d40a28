package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/vault"
)

func (s *Server) notFound(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	return rempart.Errorf(rempart.ENOTFOUND, "No such API route: %s %s.", r.Method, r.URL.Path)
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPIDocument)
	return nil
}

func (s *Server) bootstrap(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	token, _ := bearer(r)
	out, err := s.identity.Bootstrap(r.Context(), c, token)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

// Tenants.

func (s *Server) listTenants(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	ts, err := s.vault.Tenants(r.Context(), c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"tenants": ts})
}

func (s *Server) createTenant(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.TenantCreate
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	t, err := s.vault.CreateTenant(r.Context(), c, in.Name)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/tenants/"+t.ID)
	return writeJSON(w, http.StatusCreated, t)
}

func (s *Server) getTenant(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	t, err := s.vault.Tenant(r.Context(), c, r.PathValue("tenant"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

func (s *Server) suspendTenant(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	return s.setTenantStatus(w, r, c, rempart.TenantSuspended)
}

func (s *Server) resumeTenant(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	return s.setTenantStatus(w, r, c, rempart.TenantActive)
}

func (s *Server) setTenantStatus(w http.ResponseWriter, r *http.Request, c rempart.Caller, status string) error {
	t, err := s.vault.SetTenantStatus(r.Context(), c, r.PathValue("tenant"), status)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

func (s *Server) deleteTenant(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	if err := s.vault.DeleteTenant(r.Context(), c, r.PathValue("tenant")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Service accounts and keys.

func (s *Server) listServiceAccounts(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	out, err := s.identity.ServiceAccounts(r.Context(), c, r.PathValue("tenant"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"service_accounts": out})
}

func (s *Server) createServiceAccount(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.ServiceAccountCreate
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	sa, err := s.identity.CreateServiceAccount(r.Context(), c, r.PathValue("tenant"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, sa)
}

func (s *Server) deleteServiceAccount(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	if err := s.identity.DeleteServiceAccount(r.Context(), c, r.PathValue("tenant"), r.PathValue("account")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	out, err := s.identity.APIKeys(r.Context(), c, r.PathValue("tenant"), r.PathValue("account"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"keys": out})
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.APIKeyCreate
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
	}
	k, err := s.identity.CreateAPIKey(r.Context(), c, r.PathValue("tenant"), r.PathValue("account"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, k)
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	if err := s.identity.RevokeAPIKey(r.Context(), c, r.PathValue("tenant"), r.PathValue("account"), r.PathValue("key")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Records.

func (s *Server) listCollections(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	names, err := s.vault.Collections(r.Context(), c, r.PathValue("tenant"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rempart.CollectionList{Collections: names})
}

func (s *Server) listRecords(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	q := r.URL.Query()
	limit, err := queryInt(r, "limit", 0)
	if err != nil {
		return err
	}
	if limit > 1000 {
		return rempart.Errorf(rempart.EINVALID, "limit must be between 1 and 1000.")
	}
	list, err := s.vault.ListRecords(r.Context(), c, r.PathValue("tenant"), r.PathValue("collection"), vault.ListOptions{
		Limit: int(limit), Cursor: q.Get("cursor"), Sort: q.Get("sort"), Deleted: q.Get("deleted") == "true",
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

func (s *Server) createRecord(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	body, err := readBody(r, "application/json")
	if err != nil {
		return err
	}
	tenant, coll := r.PathValue("tenant"), r.PathValue("collection")
	rec, created, err := s.vault.CreateRecord(r.Context(), c, tenant, coll, body, r.Header.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(rec.Version))
	w.Header().Set("Location", "/api/v1/tenants/"+tenant+"/collections/"+coll+"/records/"+rec.ID)
	if !created {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	return writeJSON(w, http.StatusCreated, rec)
}

func (s *Server) getRecord(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	rec, err := s.vault.GetRecord(r.Context(), c, r.PathValue("tenant"), r.PathValue("collection"), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(rec.Version))
	return writeJSON(w, http.StatusOK, rec)
}

func (s *Server) replaceRecord(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	return s.writeRecord(w, r, c, "application/json", s.vault.ReplaceRecord)
}

func (s *Server) patchRecord(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	return s.writeRecord(w, r, c, "application/merge-patch+json", s.vault.PatchRecord)
}

type recordWriter func(ctx context.Context, c rempart.Caller, tenant, collection, id string, body []byte, ifMatch int64) (rempart.Record, error)

func (s *Server) writeRecord(w http.ResponseWriter, r *http.Request, c rempart.Caller, mediaType string, write recordWriter) error {
	match, err := ifMatch(r)
	if err != nil {
		return err
	}
	body, err := readBody(r, mediaType)
	if err != nil {
		return err
	}
	rec, err := write(r.Context(), c, r.PathValue("tenant"), r.PathValue("collection"), r.PathValue("id"), body, match)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(rec.Version))
	return writeJSON(w, http.StatusOK, rec)
}

func (s *Server) deleteRecord(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	match, err := ifMatch(r)
	if err != nil {
		return err
	}
	if err := s.vault.DeleteRecord(r.Context(), c, r.PathValue("tenant"), r.PathValue("collection"), r.PathValue("id"), match); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) restoreRecord(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	rec, err := s.vault.RestoreRecord(r.Context(), c, r.PathValue("tenant"), r.PathValue("collection"), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(rec.Version))
	return writeJSON(w, http.StatusOK, rec)
}

// Audit.

func auditQuery(r *http.Request) (start uint64, limit int, action string, err error) {
	start, err = queryInt(r, "start", 0)
	if err != nil {
		return
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		if start, err = queryInt(r, "cursor", 0); err != nil {
			err = rempart.Errorf(rempart.EINVALID, "The cursor is not valid.")
			return
		}
	}
	l, err := queryInt(r, "limit", 100)
	if err != nil {
		return
	}
	if l < 1 || l > 1000 {
		err = rempart.Errorf(rempart.EINVALID, "limit must be between 1 and 1000.")
		return
	}
	action = r.URL.Query().Get("action")
	if len(action) > 64 || strings.ContainsFunc(action, func(r rune) bool { return !(r == '.' || r == '_' || r >= 'a' && r <= 'z') }) {
		err = rempart.Errorf(rempart.EINVALID, "action must be an action name like record.read.")
	}
	return start, int(l), action, err
}

// auditPrincipal is the principal filter of an audit query.
func auditPrincipal(r *http.Request) (string, error) {
	p := r.URL.Query().Get("principal")
	return p, audit.CheckPrincipal(p)
}

func (s *Server) tenantAudit(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	start, limit, action, err := auditQuery(r)
	if err != nil {
		return err
	}
	principal, err := auditPrincipal(r)
	if err != nil {
		return err
	}
	out, err := s.audit.TenantEntries(r.Context(), c, r.PathValue("tenant"), start, limit, action, principal)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) auditEntries(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	start, limit, action, err := auditQuery(r)
	if err != nil {
		return err
	}
	principal, err := auditPrincipal(r)
	if err != nil {
		return err
	}
	out, err := s.audit.Entries(r.Context(), c, start, limit, action, principal)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) checkpoint(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	cp, err := s.audit.Checkpoint(r.Context(), c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, cp)
}

func (s *Server) inclusionProof(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	index, err := queryInt(r, "index", 0)
	if err != nil {
		return err
	}
	size, err := queryInt(r, "size", 0)
	if err != nil {
		return err
	}
	p, err := s.audit.InclusionProof(r.Context(), c, index, size)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (s *Server) consistencyProof(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	from, err := queryInt(r, "from", 0)
	if err != nil {
		return err
	}
	to, err := queryInt(r, "to", 0)
	if err != nil {
		return err
	}
	p, err := s.audit.ConsistencyProof(r.Context(), c, from, to)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (s *Server) export(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	w.Header().Set("Content-Type", "application/jsonl")
	w.Header().Set("Content-Disposition", `attachment; filename="rempart-audit.jsonl"`)
	return s.audit.Export(r.Context(), c, w)
}
