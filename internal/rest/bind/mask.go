package bind

import (
	"bytes"
	"encoding/json"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// maxMaskDepth bounds the nesting followed by MaskPaths.
const maxMaskDepth = 32

// MaskPaths returns the FieldMask paths (proto names) of the fields present
// in a JSON object read into a message of type md, as grpc-gateway fills an
// empty update_mask of a PATCH: objects for singular message fields that are
// not well-known types are followed; any other field, and a message field
// given as null, is one path. Keys that name no field are left out (the
// body reader discards them too).
func MaskPaths(data []byte, md protoreflect.MessageDescriptor) ([]string, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, nil
	}
	var paths []string
	if err := maskPaths(data, md, "", &paths, 0); err != nil {
		return nil, &Error{Msg: "malformed JSON body: " + err.Error()}
	}
	return paths, nil
}

func maskPaths(data []byte, md protoreflect.MessageDescriptor, prefix string, paths *[]string, depth int) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return err
	}
	// Field order, not map order, for a stable mask.
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		raw, ok := obj[fd.JSONName()]
		if !ok {
			if raw, ok = obj[string(fd.Name())]; !ok {
				continue
			}
		}
		path := prefix + string(fd.Name())
		raw = bytes.TrimSpace(raw)
		if sub := fd.Message(); sub != nil && !fd.IsList() && !fd.IsMap() && !scalarMessage(sub.FullName()) &&
			len(raw) > 0 && raw[0] == '{' && depth < maxMaskDepth && sub.FullName() != "google.protobuf.Struct" &&
			sub.FullName() != "google.protobuf.Value" && sub.FullName() != "google.protobuf.Any" {
			before := len(*paths)
			if err := maskPaths(raw, sub, path+".", paths, depth+1); err != nil {
				return err
			}
			if len(*paths) == before {
				*paths = append(*paths, path) // an empty object clears the field
			}
			continue
		}
		*paths = append(*paths, path)
	}
	return nil
}
