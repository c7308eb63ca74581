package api

import (
	"fmt"
	"reflect"
	"strings"

	"pacto/internal/lifecycle"
)

// checkStorableText refuses a decoded request body holding a string that
// PostgreSQL or the exports cannot carry (lifecycle.CheckText), naming the
// field. The core checks the commands it decides again; this covers the
// admin writes too, which never reach the core.
func checkStorableText(v any) error {
	return walkText(reflect.ValueOf(v), "")
}

func walkText(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return walkText(v.Elem(), path)
	case reflect.String:
		if err := lifecycle.CheckText(v.String()); err != nil {
			field := path
			if field == "" {
				field = "body"
			}
			return failField(probInvalid, field, fmt.Sprintf("%s %v", field, err))
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := walkText(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			key := fmt.Sprint(iter.Key().Interface())
			if err := walkText(iter.Key(), joinField(path, "(key)")); err != nil {
				return err
			}
			sub := joinField(path, key)
			if key == "" {
				sub = path // a text given as a plain string
			}
			if err := walkText(iter.Value(), sub); err != nil {
				return err
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			sub := joinField(path, name)
			if f.Anonymous && f.Tag.Get("json") == "" {
				sub = path // embedded fields are flattened in JSON
			}
			if err := walkText(v.Field(i), sub); err != nil {
				return err
			}
		}
	}
	return nil
}

func joinField(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
