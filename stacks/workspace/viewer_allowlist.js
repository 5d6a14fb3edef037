// CloudFront Function (cloudfront-js-2.0, viewer request): only viewers from the allowed networks reach
// RStudio. A function instead of a WAF web ACL, because a CloudFront web ACL must live in us-east-1.
// ALLOWED and DENIED_MESSAGE are filled at synth from settings.rstudio_allowed_cidrs: each network is
// {b: prefix length, w: its address as eight 16-bit words (IPv4 in the first two), v: 4 or 6}.
var ALLOWED = __ALLOWED__;
var DENIED_MESSAGE = __DENIED_MESSAGE__;

function parseIPv4(text) {
    var parts = text.split('.');
    if (parts.length !== 4) {
        return null;
    }
    var bytes = [];
    for (var i = 0; i < 4; i++) {
        var n = parseInt(parts[i], 10);
        if (isNaN(n) || n < 0 || n > 255) {
            return null;
        }
        bytes.push(n);
    }
    return [bytes[0] * 256 + bytes[1], bytes[2] * 256 + bytes[3], 0, 0, 0, 0, 0, 0];
}

function parseGroups(text) {
    if (text === '') {
        return [];
    }
    var groups = text.split(':');
    var words = [];
    for (var i = 0; i < groups.length; i++) {
        var group = groups[i];
        if (group.indexOf('.') >= 0 && i === groups.length - 1) {
            var v4 = parseIPv4(group);
            if (v4 === null) {
                return null;
            }
            words.push(v4[0], v4[1]);
        } else {
            var n = parseInt(group, 16);
            if (isNaN(n) || n < 0 || n > 0xffff) {
                return null;
            }
            words.push(n);
        }
    }
    return words;
}

function parseIPv6(text) {
    var halves = text.split('::');
    if (halves.length > 2) {
        return null;
    }
    var head = parseGroups(halves[0]);
    var tail = halves.length === 2 ? parseGroups(halves[1]) : [];
    if (head === null || tail === null) {
        return null;
    }
    var missing = 8 - head.length - tail.length;
    if (missing < 0 || (halves.length === 1 && missing !== 0)) {
        return null;
    }
    var words = head.slice();
    for (var i = 0; i < missing; i++) {
        words.push(0);
    }
    return words.concat(tail);
}

function inNetwork(words, network) {
    var bits = network.b;
    for (var i = 0; i < 8 && bits > 0; i++) {
        var take = bits >= 16 ? 16 : bits;
        var mask = (0xffff << (16 - take)) & 0xffff;
        if ((words[i] & mask) !== (network.w[i] & mask)) {
            return false;
        }
        bits -= take;
    }
    return true;
}

function isAllowed(ip) {
    var version = ip.indexOf(':') >= 0 ? 6 : 4;
    var words = version === 6 ? parseIPv6(ip) : parseIPv4(ip);
    if (words === null) {
        return false;
    }
    for (var i = 0; i < ALLOWED.length; i++) {
        if (ALLOWED[i].v === version && inNetwork(words, ALLOWED[i])) {
            return true;
        }
    }
    return false;
}

function handler(event) {
    var ip = event.viewer.ip;
    if (isAllowed(ip)) {
        return event.request;
    }
    return {
        statusCode: 403,
        statusDescription: 'Forbidden',
        headers: {'content-type': {value: 'text/plain; charset=utf-8'}, 'cache-control': {value: 'no-store'}},
        body: {encoding: 'text', data: DENIED_MESSAGE.replace('{ip}', ip) + '\n'}
    };
}
