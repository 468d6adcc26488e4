package mlops

/*
#include <mlops/common.h>
*/
import "C"

import "fmt"

// Code is a stable MLOPS_E* status code (negative; 0 is success).
type Code int

const (
	CodeInvalidArgument  Code = C.MLOPS_EINVAL       // an argument is invalid
	CodeOutOfMemory      Code = C.MLOPS_ENOMEM       // out of memory (host or device)
	CodeNotFound         Code = C.MLOPS_ENOTFOUND    // the named object does not exist
	CodeAlreadyExists    Code = C.MLOPS_EEXISTS      // the object already exists
	CodeIO               Code = C.MLOPS_EIO          // a file could not be opened, read or written
	CodeBusy             Code = C.MLOPS_EBUSY        // busy (locked store, full buffer); retry later
	CodeCorrupt          Code = C.MLOPS_ECORRUPT     // stored data is corrupt
	CodeUnsupported      Code = C.MLOPS_EUNSUPPORTED // not built in or not available here
	CodeNetwork          Code = C.MLOPS_ENETWORK     // a network failure talking to a server
	CodeInvalidState     Code = C.MLOPS_ESTATE       // wrong state for this call (ended run, closed handle)
	CodeLimitExceeded    Code = C.MLOPS_ELIMIT       // a configured limit would be exceeded
	CodeVersionMismatch  Code = C.MLOPS_EVERSION     // unknown struct version, or newer data
	CodePermissionDenied Code = C.MLOPS_EPERM        // not permitted
)

// String is the library's fixed text for the code (mlops_strerror).
func (c Code) String() string { return C.GoString(C.mlops_strerror(C.int(c))) }

// Error is a failed libmlops call: its code and the message from mlops_errmsg().
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "mlops: " + e.Code.String()
	}
	return fmt.Sprintf("mlops: %s [%s]", e.Message, e.Code)
}

// Is makes errors.Is(err, ErrNotFound) true for every *Error with that code; a target with
// a message must match it too.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t.Message == "" || t.Message == e.Message)
}

// Sentinels for errors.Is: one per code.
var (
	ErrInvalidArgument  = &Error{Code: CodeInvalidArgument}
	ErrOutOfMemory      = &Error{Code: CodeOutOfMemory}
	ErrNotFound         = &Error{Code: CodeNotFound}
	ErrAlreadyExists    = &Error{Code: CodeAlreadyExists}
	ErrIO               = &Error{Code: CodeIO}
	ErrBusy             = &Error{Code: CodeBusy}
	ErrCorrupt          = &Error{Code: CodeCorrupt}
	ErrUnsupported      = &Error{Code: CodeUnsupported}
	ErrNetwork          = &Error{Code: CodeNetwork}
	ErrInvalidState     = &Error{Code: CodeInvalidState}
	ErrLimitExceeded    = &Error{Code: CodeLimitExceeded}
	ErrVersionMismatch  = &Error{Code: CodeVersionMismatch}
	ErrPermissionDenied = &Error{Code: CodePermissionDenied}
)

// errorFor builds the *Error of a failed call. It must run on the OS thread of that call,
// before any other libmlops call there (see call).
func errorFor(rc C.int) error {
	msg := C.GoString(C.mlops_errmsg())
	if msg == "" {
		msg = Code(rc).String()
	}
	return &Error{Code: Code(rc), Message: msg}
}

func errClosed(what string) error {
	return &Error{Code: CodeInvalidState, Message: what + " is closed"}
}
