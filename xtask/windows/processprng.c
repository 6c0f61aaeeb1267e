/*
 * bcryptprimitives.dll for Wine 8, which lacks it.
 *
 * Rust's standard library (1.78 and later) and getrandom 0.3 take their random bytes from
 * ProcessPrng in bcryptprimitives.dll, which Windows 10 and later have and Wine 8.0 does not, so
 * every Rust program exits at start under Wine 8. This DLL exports ProcessPrng and fills the buffer
 * from BCryptGenRandom with the system's preferred generator. `cargo xtask` builds it with mingw into
 * the private Wine prefix the Windows tests run in; it is never shipped.
 */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
