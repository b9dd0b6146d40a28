package reviews

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"time"

	"github.com/rempart/rempart"
)

// Export formats.
const (
	FormatCSV  = "csv"
	FormatJSON = "json"
)

// Evidence is the JSON export of a closed campaign (IAM-9): the campaign,
// every item with its decision, and who exported it when.
type Evidence struct {
	rempart.CampaignDetail
	ExportedBy string    `json:"exported_by"`
	ExportedAt time.Time `json:"exported_at"`
}

// Export returns a closed campaign of the scope as evidence, in CSV or JSON,
// with its content type and a file name. An open campaign is not evidence
// yet: ECONFLICT.
func (s *Service) Export(ctx context.Context, c rempart.Caller, tenant, id, format string) (body []byte, contentType, filename string, err error) {
	e := c.Entry(tenant, "review.export", scopePath(tenant)+"/access-reviews/"+id)
	if err := s.authorize(ctx, c, tenant, e); err != nil {
		return nil, "", "", err
	}
	if format != FormatCSV && format != FormatJSON {
		return nil, "", "", s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "format must be csv or json."))
	}
	cp, err := s.store.Campaign(ctx, tenant, id)
	if rempart.ErrorCode(err) == rempart.ENOTFOUND {
		return nil, "", "", s.deny(ctx, e, err)
	} else if err != nil {
		return nil, "", "", err
	}
	if cp.ClosedAt == nil {
		return nil, "", "", s.deny(ctx, e, rempart.Errorf(rempart.ECONFLICT, "The campaign is still open: it is exported once every account is decided."))
	}
	ev := Evidence{CampaignDetail: cp, ExportedBy: c.Principal.ID, ExportedAt: s.clock.Now().UTC()}
	e.Reason = format
	body, contentType, err = Encode(ev, format)
	if err != nil {
		return nil, "", "", err
	}
	if _, err := s.store.Audit(ctx, e); err != nil {
		return nil, "", "", err
	}
	return body, contentType, "access-review-" + cp.ID + "." + format, nil
}

// Encode writes evidence in a format (FormatCSV or FormatJSON) and returns
// its content type.
func Encode(ev Evidence, format string) ([]byte, string, error) {
	if format == FormatJSON {
		b, err := json.MarshalIndent(ev, "", "  ")
		return append(b, '\n'), "application/json", err
	}
	b, err := evidenceCSV(ev)
	return b, "text/csv; charset=utf-8", err
}

// csvHeader are the CSV export's columns: the campaign's on every row, so
// that each row stands on its own as evidence.
var csvHeader = []string{"campaign_id", "campaign_name", "scope", "period", "created_by", "created_at", "due_at", "closed_at", "exported_by", "exported_at",
	"principal_id", "kind", "name", "email", "role", "status", "grants", "last_login_at", "mfa", "flags",
	"decision", "new_role", "note", "decided_by", "decided_at", "role_change_id"}

func evidenceCSV(ev Evidence) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(csvHeader); err != nil {
		return nil, err
	}
	scope := ev.TenantID
	if scope == "" {
		scope = "staff"
	}
	for _, it := range ev.Items {
		row := []string{ev.ID, ev.Name, scope, ev.Period, ev.CreatedBy, stamp(&ev.CreatedAt), stamp(&ev.DueAt), stamp(ev.ClosedAt), ev.ExportedBy, stamp(&ev.ExportedAt),
			it.PrincipalID, it.Kind, it.Name, it.Email, it.Role, it.Status, strings.Join(it.Grants, "; "), stamp(it.LastLoginAt), it.MFA, strings.Join(it.Flags, " "),
			it.Decision, it.NewRole, it.Note, it.DecidedBy, stamp(it.DecidedAt), it.RoleChangeID}
		for i := range row {
			row[i] = CSVCell(row[i])
		}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

func stamp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// CSVCell neutralises a cell that a spreadsheet would take for a formula
// (one starting with =, +, -, @, a tab or a carriage return) by prefixing a
// single quote: a reviewer's note or an account's name cannot run in the
// auditor's spreadsheet.
func CSVCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
