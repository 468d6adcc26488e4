module libmlops/examples/go

go 1.19

require libmlops/bindings/go v0.0.0

replace libmlops/bindings/go => ../../bindings/go
