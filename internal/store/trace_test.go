package store

import "testing"

func TestQuerySpanName(t *testing.T) {
	for sql, want := range map[string]string{
		"-- name: GetDelivery :one\nSELECT d.id FROM deliveries d": "GetDelivery",
		"begin":                              "BEGIN",
		"  SELECT count(*) FROM x":           "SELECT",
		"":                                   "query",
		"averyveryverylongfirstwordindeed x": "query",
	} {
		if got := querySpanName(sql); got != want {
			t.Errorf("querySpanName(%q) = %q, want %q", sql, got, want)
		}
	}
}
