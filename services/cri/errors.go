package cri

import "github.com/corral-dev/corral/services"

// toGRPC converts *err to a gRPC status error, at the end of every CRI handler.
func toGRPC(err *error) { *err = services.ToGRPC(*err) }
