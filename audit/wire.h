/* audit/wire.h — being written. */
