package rpc

import (
	"fmt"
	"go/token"
	"strconv"
)

// Option names accepted by protoc-gen-rpc, besides protogen's own (paths,
// module, annotate_code, default_api_level and M mappings).
const (
	optRequireUnimplemented = "require_unimplemented_servers"
	optGenericStreams       = "use_generic_streams_experimental"
	optPackageSuffix        = "package_suffix"
	optFanOut               = "fanout"
)

// acceptedOptions lists every option in the order the manual documents them.
const acceptedOptions = optRequireUnimplemented + ", " + optGenericStreams + ", " + optPackageSuffix + ", " + optFanOut +
	", paths, module, annotate_code, default_api_level, M<file>=<import path>"

// Options configure the generated code.
type Options struct {
	// RequireUnimplementedServers adds the mustEmbedUnimplementedXxxServer
	// method to every XxxServer interface, as protoc-gen-go-grpc does by
	// default.
	RequireUnimplementedServers bool
	// GenericStreams uses grpc-go's generic stream types
	// (grpc.ServerStreamingServer[T] and friends) in stream method signatures,
	// with the Xxx_MethodServer and Xxx_MethodClient names as type aliases.
	// When false, those names are stream interfaces of their own, with
	// implementations, as protoc-gen-go-grpc generated them before v1.4.
	GenericStreams bool
	// PackageSuffix, when not empty, writes the generated code into the
	// sub-package <pkg><PackageSuffix> of the message package.
	PackageSuffix string
	// FanOut adds, per service, the XxxFanOutClient interface and its
	// constructor NewXxxFanOutClient, which call the unary and
	// server-streaming methods on several targets at once (package
	// github.com/polyrpc/polyrpc/fanout).
	FanOut bool
}

// DefaultOptions are the options used when the parameter sets none.
func DefaultOptions() Options {
	return Options{RequireUnimplementedServers: true, GenericStreams: true}
}

// Set applies one option from the plugin parameter.
func (o *Options) Set(name, value string) error {
	switch name {
	case optRequireUnimplemented:
		b, err := parseBool(name, value)
		if err != nil {
			return err
		}
		o.RequireUnimplementedServers = b
	case optGenericStreams:
		b, err := parseBool(name, value)
		if err != nil {
			return err
		}
		o.GenericStreams = b
	case optPackageSuffix:
		if value != "" && !token.IsIdentifier(value) {
			return fmt.Errorf("package_suffix %q is not a valid Go identifier", value)
		}
		o.PackageSuffix = value
	case optFanOut:
		b, err := parseBool(name, value)
		if err != nil {
			return err
		}
		o.FanOut = b
	default:
		return fmt.Errorf("unknown option %q (accepted: %s)", name, acceptedOptions)
	}
	return nil
}

func parseBool(name, value string) (bool, error) {
	b, err := strconv.ParseBool(value)
	if err != nil {
		return false, fmt.Errorf("invalid value %q for option %s: want true or false", value, name)
	}
	return b, nil
}
