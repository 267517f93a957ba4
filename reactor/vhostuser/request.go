package vhostuser

import "strconv"

// Request is the code of a front-end request, the first field of a header.
type Request uint32

// Front-end request codes, as numbered by the vhost-user specification.
const (
	ReqNone                Request = 0
	ReqGetFeatures         Request = 1
	ReqSetFeatures         Request = 2
	ReqSetOwner            Request = 3
	ReqResetOwner          Request = 4
	ReqSetMemTable         Request = 5
	ReqSetLogBase          Request = 6
	ReqSetLogFd            Request = 7
	ReqSetVringNum         Request = 8
	ReqSetVringAddr        Request = 9
	ReqSetVringBase        Request = 10
	ReqGetVringBase        Request = 11
	ReqSetVringKick        Request = 12
	ReqSetVringCall        Request = 13
	ReqSetVringErr         Request = 14
	ReqGetProtocolFeatures Request = 15
	ReqSetProtocolFeatures Request = 16
	ReqGetQueueNum         Request = 17
	ReqSetVringEnable      Request = 18
	ReqSendRARP            Request = 19
	ReqNetSetMTU           Request = 20
	ReqSetBackendReqFd     Request = 21
	ReqIOTLBMsg            Request = 22
	ReqSetVringEndian      Request = 23
	ReqGetConfig           Request = 24
	ReqSetConfig           Request = 25
	ReqCreateCryptoSession Request = 26
	ReqCloseCryptoSession  Request = 27
	ReqPostcopyAdvise      Request = 28
	ReqPostcopyListen      Request = 29
	ReqPostcopyEnd         Request = 30
	ReqGetInflightFd       Request = 31
	ReqSetInflightFd       Request = 32
	ReqGPUSetSocket        Request = 33
	ReqResetDevice         Request = 34
	ReqVringKick           Request = 35
	ReqGetMaxMemSlots      Request = 36
	ReqAddMemReg           Request = 37
	ReqRemMemReg           Request = 38
	ReqSetStatus           Request = 39
	ReqGetStatus           Request = 40
	ReqGetSharedObject     Request = 41
	ReqSetDeviceStateFd    Request = 42
	ReqCheckDeviceState    Request = 43
)

var requestNames = [...]string{
	ReqNone:                "NONE",
	ReqGetFeatures:         "GET_FEATURES",
	ReqSetFeatures:         "SET_FEATURES",
	ReqSetOwner:            "SET_OWNER",
	ReqResetOwner:          "RESET_OWNER",
	ReqSetMemTable:         "SET_MEM_TABLE",
	ReqSetLogBase:          "SET_LOG_BASE",
	ReqSetLogFd:            "SET_LOG_FD",
	ReqSetVringNum:         "SET_VRING_NUM",
	ReqSetVringAddr:        "SET_VRING_ADDR",
	ReqSetVringBase:        "SET_VRING_BASE",
	ReqGetVringBase:        "GET_VRING_BASE",
	ReqSetVringKick:        "SET_VRING_KICK",
	ReqSetVringCall:        "SET_VRING_CALL",
	ReqSetVringErr:         "SET_VRING_ERR",
	ReqGetProtocolFeatures: "GET_PROTOCOL_FEATURES",
	ReqSetProtocolFeatures: "SET_PROTOCOL_FEATURES",
	ReqGetQueueNum:         "GET_QUEUE_NUM",
	ReqSetVringEnable:      "SET_VRING_ENABLE",
	ReqSendRARP:            "SEND_RARP",
	ReqNetSetMTU:           "NET_SET_MTU",
	ReqSetBackendReqFd:     "SET_BACKEND_REQ_FD",
	ReqIOTLBMsg:            "IOTLB_MSG",
	ReqSetVringEndian:      "SET_VRING_ENDIAN",
	ReqGetConfig:           "GET_CONFIG",
	ReqSetConfig:           "SET_CONFIG",
	ReqCreateCryptoSession: "CREATE_CRYPTO_SESSION",
	ReqCloseCryptoSession:  "CLOSE_CRYPTO_SESSION",
	ReqPostcopyAdvise:      "POSTCOPY_ADVISE",
	ReqPostcopyListen:      "POSTCOPY_LISTEN",
	ReqPostcopyEnd:         "POSTCOPY_END",
	ReqGetInflightFd:       "GET_INFLIGHT_FD",
	ReqSetInflightFd:       "SET_INFLIGHT_FD",
	ReqGPUSetSocket:        "GPU_SET_SOCKET",
	ReqResetDevice:         "RESET_DEVICE",
	ReqVringKick:           "VRING_KICK",
	ReqGetMaxMemSlots:      "GET_MAX_MEM_SLOTS",
	ReqAddMemReg:           "ADD_MEM_REG",
	ReqRemMemReg:           "REM_MEM_REG",
	ReqSetStatus:           "SET_STATUS",
	ReqGetStatus:           "GET_STATUS",
	ReqGetSharedObject:     "GET_SHARED_OBJECT",
	ReqSetDeviceStateFd:    "SET_DEVICE_STATE_FD",
	ReqCheckDeviceState:    "CHECK_DEVICE_STATE",
}

// String returns the specification's name of r without its VHOST_USER_
// prefix, or the number for codes it does not know.
func (r Request) String() string {
	if int(r) < len(requestNames) {
		return requestNames[r]
	}
	return "REQUEST_" + strconv.FormatUint(uint64(r), 10)
}

// HasReply reports whether the back-end answers r with a reply of its own
// (as opposed to the optional REPLY_ACK acknowledgement).
func (r Request) HasReply() bool {
	switch r {
	case ReqGetFeatures, ReqGetProtocolFeatures, ReqGetVringBase, ReqGetQueueNum,
		ReqGetConfig, ReqCreateCryptoSession, ReqPostcopyAdvise, ReqPostcopyEnd,
		ReqGetInflightFd, ReqGetMaxMemSlots, ReqGetStatus, ReqGetSharedObject,
		ReqSetDeviceStateFd, ReqCheckDeviceState:
		return true
	}
	return false
}
