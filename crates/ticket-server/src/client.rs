//! Who a request comes from, for the limits kept per client: the peer's address, or, when the peer
//! is a proxy the operator trusts (`--trust-proxy`), the address it says it forwarded for.
//!
//! The whole organisation shares one submit token, so limits are kept per address, never per
//! token. `X-Forwarded-For` is read from the right, skipping trusted proxies, so a client cannot
//! choose its own address by sending the header itself. IPv6 clients are counted by their /64: one
//! machine usually holds a whole one.

use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

use axum::http::HeaderMap;

/// An address block, `10.0.0.0/8`, `2001:db8::/32` or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

/// A block that is not an address with an optional `/bits`.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not an address or an address block such as 10.0.0.0/8 or fd00::/8")]
pub struct BadCidr(String);

impl FromStr for Cidr {
    type Err = BadCidr;

    fn from_str(text: &str) -> Result<Cidr, BadCidr> {
        let bad = || BadCidr(text.to_owned());
        let (addr, bits) = match text.trim().split_once('/') {
            Some((addr, bits)) => (addr, Some(bits.parse::<u8>().map_err(|_| bad())?)),
            None => (text.trim(), None),
        };
        let net = canonical(addr.parse::<IpAddr>().map_err(|_| bad())?);
        let most = if net.is_ipv4() { 32 } else { 128 };
        let bits = bits.unwrap_or(most);
        if bits > most {
            return Err(bad());
        }
        Ok(Cidr { net, bits })
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix(u32::from(net).into(), self.bits, 32)
                    == prefix(u32::from(ip).into(), self.bits, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix(net.into(), self.bits, 128) == prefix(ip.into(), self.bits, 128)
            }
            _ => false,
        }
    }
}

fn prefix(value: u128, bits: u8, width: u8) -> u128 {
    if bits == 0 {
        0
    } else {
        value >> (width - bits)
    }
}

/// An IPv4 address written as IPv6 (`::ffff:10.0.0.1`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The proxies whose `X-Forwarded-For` is believed; none by default.
#[derive(Debug, Clone, Default)]
pub struct Proxies(pub Vec<Cidr>);

impl Proxies {
    fn trusted(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|cidr| cidr.contains(ip))
    }

    /// The client's address: the peer's, unless the peer is a trusted proxy; then the rightmost
    /// address in `X-Forwarded-For` that is not one.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusted(peer) {
            return peer;
        }
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        for hop in forwarded.iter().rev() {
            match hop.parse::<IpAddr>().map(canonical) {
                Ok(ip) if self.trusted(ip) => continue,
                Ok(ip) => return ip,
                // A hop the proxy could not have written: go no further left than this.
                Err(_) => break,
            }
        }
        peer
    }

    /// The key limits are kept under: the address, an IPv6 one cut to its /64.
    pub fn client_key(&self, peer: IpAddr, headers: &HeaderMap) -> String {
        match self.client(peer, headers) {
            IpAddr::V6(v6) => {
                let bits = u128::from(v6) >> 64 << 64;
                format!("{}/64", Ipv6Addr::from(bits))
            }
            v4 => v4.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn blocks_hold_what_they_say() {
        let block: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(block.contains("10.1.200.3".parse().unwrap()));
        assert!(block.contains("::ffff:10.1.0.9".parse().unwrap()));
        assert!(!block.contains("10.2.0.1".parse().unwrap()));
        assert!(!block.contains("fd00::1".parse().unwrap()));
        let one: Cidr = "fd00::7".parse().unwrap();
        assert!(one.contains("fd00::7".parse().unwrap()));
        assert!(!one.contains("fd00::8".parse().unwrap()));
        assert!(
            "0.0.0.0/0"
                .parse::<Cidr>()
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        for bad in ["10.0.0.0/33", "proxy.local", "10.0.0.0/x", ""] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_forwarded_address_counts_only_from_a_trusted_proxy() {
        let proxies = Proxies(vec!["10.0.0.0/8".parse().unwrap()]);
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let stranger: IpAddr = "203.0.113.9".parse().unwrap();
        // The client wrote the first address itself; the proxy appended the one it saw.
        let headers = forwarded("198.51.100.1, 192.0.2.44, 10.0.0.3");
        assert_eq!(
            proxies.client(proxy, &headers),
            "192.0.2.44".parse::<IpAddr>().unwrap()
        );
        assert_eq!(proxies.client(stranger, &headers), stranger);
        assert_eq!(Proxies::default().client(proxy, &headers), proxy);
        assert_eq!(proxies.client(proxy, &forwarded("junk")), proxy);
        assert_eq!(proxies.client(proxy, &HeaderMap::new()), proxy);
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64() {
        let proxies = Proxies::default();
        let a = proxies.client_key("2001:db8:1:2::1".parse().unwrap(), &HeaderMap::new());
        let b = proxies.client_key("2001:db8:1:2:ffff::9".parse().unwrap(), &HeaderMap::new());
        assert_eq!(a, b);
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(
            proxies.client_key("::ffff:192.0.2.1".parse().unwrap(), &HeaderMap::new()),
            "192.0.2.1"
        );
    }
}
