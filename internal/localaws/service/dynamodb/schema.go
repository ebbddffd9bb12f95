package dynamodb

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
)

// schema is what capacity accounting needs of a table: its key and its
// secondary indexes with their projections.
type schema struct {
	Name    string
	Keys    []string // partition key, then sort key if any
	Indexes []index
}

// index is a local or global secondary index.
type index struct {
	Name       string
	Global     bool
	Keys       []string
	Projection string   // ALL, KEYS_ONLY or INCLUDE
	NonKey     []string // INCLUDE's attributes
}

// keyOf is the primary key of it.
func (t *schema) keyOf(it item) item {
	key := item{}
	for _, k := range t.Keys {
		if v, ok := it[k]; ok {
			key[k] = v
		}
	}
	return key
}

// entry is what index ix holds of it: nil when the item lacks one of the
// index's key attributes (a sparse index does not hold it); else the
// table's and the index's keys and the projected attributes ("Projected
// attributes", Developer Guide: "the index's key attributes and the
// table's primary key attributes are always projected").
func (t *schema) entry(ix index, it item) item {
	if it == nil {
		return nil
	}
	for _, k := range ix.Keys {
		if _, ok := it[k]; !ok {
			return nil
		}
	}
	if ix.Projection == "ALL" {
		return it
	}
	out := item{}
	for name, v := range it {
		if slices.Contains(t.Keys, name) || slices.Contains(ix.Keys, name) ||
			(ix.Projection == "INCLUDE" && slices.Contains(ix.NonKey, name)) {
			out[name] = v
		}
	}
	return out
}

// keySchema is the table's key schema as the API writes it.
func (t *schema) keySchema() []keyElement {
	out := make([]keyElement, len(t.Keys))
	for i, k := range t.Keys {
		out[i] = keyElement{AttributeName: k, KeyType: "HASH"}
		if i == 1 {
			out[i].KeyType = "RANGE"
		}
	}
	return out
}

// indexNamed returns the index called name.
func (t *schema) indexNamed(name string) (index, bool) {
	for _, ix := range t.Indexes {
		if ix.Name == name {
			return ix, true
		}
	}
	return index{}, false
}

type keyElement struct{ AttributeName, KeyType string }

type indexDescription struct {
	IndexName  string
	KeySchema  []keyElement
	Projection struct {
		ProjectionType   string
		NonKeyAttributes []string
	}
}

// keyNames orders a key schema: HASH first, then RANGE.
func keyNames(ks []keyElement) []string {
	out := make([]string, 0, len(ks))
	for _, typ := range []string{"HASH", "RANGE"} {
		for _, k := range ks {
			if k.KeyType == typ {
				out = append(out, k.AttributeName)
			}
		}
	}
	return out
}

// schemaOf returns table's schema, read from kumo once and kept until the
// table changes (forgetSchema). A table kumo does not know gives an error.
func (s *Service) schemaOf(ctx context.Context, table string) (*schema, error) {
	s.mu.Lock()
	t := s.schemas[table]
	s.mu.Unlock()
	if t != nil {
		return t, nil
	}
	req, _ := json.Marshal(map[string]string{"TableName": table})
	s.describe.Lock()
	status, out, err := s.kumo.Call(ctx, "DynamoDB_20120810.DescribeTable", req)
	s.describe.Unlock()
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("describe table %s: %s", table, out)
	}
	var desc struct {
		Table struct {
			KeySchema              []keyElement
			LocalSecondaryIndexes  []indexDescription
			GlobalSecondaryIndexes []indexDescription
		}
	}
	if err := json.Unmarshal(out, &desc); err != nil {
		return nil, fmt.Errorf("describe table %s: %w", table, err)
	}
	t = &schema{Name: table, Keys: keyNames(desc.Table.KeySchema)}
	for i, list := range [][]indexDescription{desc.Table.LocalSecondaryIndexes, desc.Table.GlobalSecondaryIndexes} {
		for _, d := range list {
			t.Indexes = append(t.Indexes, index{
				Name: d.IndexName, Global: i == 1, Keys: keyNames(d.KeySchema),
				Projection: d.Projection.ProjectionType, NonKey: d.Projection.NonKeyAttributes,
			})
		}
	}
	s.mu.Lock()
	s.schemas[table] = t
	s.mu.Unlock()
	return t, nil
}

// forgetSchema drops what schemaOf keeps of table.
func (s *Service) forgetSchema(table string) {
	s.mu.Lock()
	delete(s.schemas, table)
	s.mu.Unlock()
}
