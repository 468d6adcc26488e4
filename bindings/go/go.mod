module libmlops/bindings/go

go 1.19
