package db

import (
	"context"
	"fmt"
	"strings"
)

// RetentionQueryForTest is one of the queries of the retention purge, with
// arguments of the right types.
type RetentionQueryForTest struct {
	Name, Query string
	Args        []any
}

// RetentionQueriesForTest lists the queries the hourly purge and the rule
// changes run, for a check of their plans.
func RetentionQueriesForTest() []RetentionQueryForTest {
	var out []RetentionQueryForTest
	for i, q := range purgeableRecords {
		out = append(out, RetentionQueryForTest{fmt.Sprintf("purgeable records %d", i), q, []any{int64(1), 10}})
	}
	args := [][]any{{int64(1), 10}, {int64(1), 10}, {int64(1), int64(1), int64(1), 10}, {int64(1), int64(1), int64(1), 10}}
	for i, q := range purgeableAttachments {
		out = append(out, RetentionQueryForTest{fmt.Sprintf("purgeable attachments %d", i), q, args[i]})
	}
	for i, q := range restampCollection {
		out = append(out, RetentionQueryForTest{fmt.Sprintf("restamp collection %d", i), q, []any{"t", "c"}})
	}
	for i, q := range restampTenant {
		out = append(out, RetentionQueryForTest{fmt.Sprintf("restamp tenant %d", i), q, []any{"t"}})
	}
	return append(out,
		RetentionQueryForTest{"purge record", purgeRecord, []any{"t", "c", "r", int64(1), int64(1)}},
		RetentionQueryForTest{"stamp record", stampRecords + ` WHERE tenant_id = ? AND collection = ? AND id = ?`, []any{"t", "c", "r"}},
		RetentionQueryForTest{"expired records", expiredRecords, []any{"t", "c", int64(1), 10}},
		RetentionQueryForTest{"next collection", nextCollection, []any{"t", ""}},
	)
}

// PlanForTest returns the query plan of q, one line per step. On PostgreSQL
// sequential scans are disabled first, so that the plan uses an index
// wherever one can serve (on tables this small the planner would otherwise
// prefer to read them whole).
func (d *DB) PlanForTest(ctx context.Context, q RetentionQueryForTest) (string, error) {
	conn, err := d.write.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	explain := "EXPLAIN QUERY PLAN "
	if d.dialect == Postgres {
		explain = "EXPLAIN "
		if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
			return "", err
		}
		defer conn.ExecContext(context.Background(), "SET enable_seqscan = on")
	}
	rows, err := conn.QueryContext(ctx, explain+d.q(q.Query), q.Args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		lines = append(lines, fmt.Sprint(vals[len(vals)-1]))
	}
	return strings.Join(lines, "\n"), rows.Err()
}
