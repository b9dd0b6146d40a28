package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
)

// auditPageSize is how many entries one page of the audit log shows.
const auditPageSize = 50

type auditPage struct {
	view
	Action, Tenant string // the filters
	Principal      string
	Tenants        []rempart.Tenant
	Entries        []rempart.AuditEntry
	Next, First    string // links to the next and first pages; "" when none
}

// audit shows the audit log with filters: the system administrator sees the
// whole log or one tenant's; anyone else sees only their own tenant's trail.
func (s *server) audit(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	q := r.URL.Query()
	p := auditPage{view: s.view(r, v, "Audit log", "audit"), Action: q.Get("action"), Tenant: q.Get("tenant"), Principal: q.Get("principal")}
	sys := v.caller.Principal.Role == rempart.RoleSystemAdmin
	if !sys {
		p.Tenant = v.caller.Principal.TenantID
	}
	start, err := auditFilters(q, p.Action, p.Tenant)
	if err == nil {
		err = audit.CheckPrincipal(p.Principal)
	}
	if err == nil && sys {
		p.Tenants, err = s.cfg.Tenants.Tenants(ctx, v.caller)
	}
	if err == nil {
		var list rempart.AuditList
		if p.Tenant != "" {
			list, err = s.cfg.Audit.TenantEntries(ctx, v.caller, p.Tenant, start, auditPageSize, p.Action, p.Principal)
		} else {
			list, err = s.cfg.Audit.Entries(ctx, v.caller, start, auditPageSize, p.Action, p.Principal)
		}
		p.Entries = list.Entries
		if list.NextCursor != "" {
			p.Next = auditLink(p.Action, q.Get("tenant"), p.Principal, list.NextCursor)
		}
		if start > 0 {
			p.First = auditLink(p.Action, q.Get("tenant"), p.Principal, "")
		}
	}
	if err != nil {
		if rempart.ErrorCode(err) != rempart.EINVALID {
			return err
		}
		p.Alert = rempart.ErrorMessage(err)
		s.render(w, r, http.StatusBadRequest, "audit", p)
		return nil
	}
	s.render(w, r, http.StatusOK, "audit", p)
	return nil
}

// auditFilters checks the filters as the API does and returns where the page
// starts.
func auditFilters(q url.Values, action, tenant string) (uint64, error) {
	var start uint64
	if c := q.Get("start"); c != "" {
		n, err := strconv.ParseUint(c, 10, 64)
		if err != nil {
			return 0, rempart.Errorf(rempart.EINVALID, "The page cursor is not valid.")
		}
		start = n
	}
	if len(action) > 64 || strings.ContainsFunc(action, func(r rune) bool { return !(r == '.' || r == '_' || r >= 'a' && r <= 'z') }) {
		return 0, rempart.Errorf(rempart.EINVALID, "An action is a name like record.read: lowercase letters, dots and underscores.")
	}
	if len(tenant) > 64 || strings.ContainsFunc(tenant, func(r rune) bool { return !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') }) {
		return 0, rempart.Errorf(rempart.EINVALID, "There is no such tenant.")
	}
	return start, nil
}

func auditLink(action, tenant, principal, start string) string {
	q := url.Values{}
	if action != "" {
		q.Set("action", action)
	}
	if principal != "" {
		q.Set("principal", principal)
	}
	if tenant != "" {
		q.Set("tenant", tenant)
	}
	if start != "" {
		q.Set("start", start)
	}
	if len(q) == 0 {
		return "/audit"
	}
	return "/audit?" + q.Encode()
}
