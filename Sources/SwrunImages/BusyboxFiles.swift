/// The text of the files the busybox template writes into the rootfs.
/// Paths of applets come from the busybox binary itself (`--list-full`), so the
/// files name programs where that build of busybox put them.
enum BusyboxFiles {
    static let passwd = "root:x:0:0:root:/root:/bin/sh\n"

    static let group = "root:x:0:\n"

    /// Root's password is locked ("*"): the console gets a shell without one,
    /// and `passwd` inside the container sets one for getty logins.
    static let shadow = "root:*::0:99999:7:::\n"

    static let fstab = """
        # Filesystems for `mount -a` in /etc/init.d/rcS. The runtime already mounts
        # /proc, /sys, /dev, /dev/pts, /dev/shm and /dev/mqueue before init starts.
        # <source> <mount point> <type> <options> <dump> <pass>

        """

    static func hostname(_ name: String) -> String { name + "\n" }

    static func hosts(_ name: String) -> String {
        """
        127.0.0.1\tlocalhost
        127.0.1.1\t\(name)
        ::1\tlocalhost ip6-localhost ip6-loopback

        """
    }

    static let profile = """
        # Read by login shells: the console shell in /etc/inittab and getty logins.
        export PATH=/usr/sbin:/usr/bin:/sbin:/bin
        if [ "$(id -u)" = 0 ] && [ "$HOME" = / ]; then
            export HOME=/root
            cd /root
        fi
        export PS1='\\u@\\h:\\w\\$ '
        umask 022

        """

    /// busybox init's table. `applet` maps an applet name to its absolute path in the rootfs.
    static func inittab(applet: (String) -> String?) -> String {
        let shell = applet("sh") ?? "/bin/sh"
        var text = """
            # busybox init reads this table: <tty>::<action>:<command>.
            # An empty <tty> means init's own console.

            # Once at boot, before anything else: the start-up script.
            ::sysinit:/etc/init.d/rcS

            # The container console (what `swrun console` and lxc-console attach to):
            # a root shell after Enter is pressed, started again when it exits.
            console::askfirst:-\(shell)

            """
        if let getty = applet("getty") {
            text += """

                # A login prompt on the first container tty (the runtime makes /dev/tty1..N
                # for lxc.tty.max). Logins need a root password: run `passwd` first.
                tty1::respawn:\(getty) -L 115200 tty1 vt100

                """
        }
        if let reboot = applet("reboot") {
            text += """

                # SIGINT to init (Ctrl-Alt-Del). The runtime stops the container with
                # SIGUSR1 (halt) and reboots it with SIGTERM, which busybox init handles itself.
                ::ctrlaltdel:\(reboot)

                """
        }
        text += """

            # SIGQUIT to init: start init again, re-reading this file.
            ::restart:\(applet("init") ?? "/sbin/init")

            """
        return text
    }

    static let rcS = """
        #!/bin/sh
        # Start-up script, run once by busybox init (::sysinit in /etc/inittab).
        export PATH=/usr/sbin:/usr/bin:/sbin:/bin

        # Extra filesystems from /etc/fstab.
        mount -a

        # Kernel and program messages go to /var/log/messages.
        syslogd

        ip link set lo up 2>/dev/null

        # DHCP on eth0, unless the runtime already gave it an IPv4 address
        # (udhcpc would flush it). -b: keep trying in the background.
        if ip link show eth0 >/dev/null 2>&1; then
            if ! ip -4 addr show dev eth0 | grep -q inet; then
                udhcpc -b -i eth0 -p /run/udhcpc.eth0.pid
            fi
        fi

        exit 0

        """

    /// Run by udhcpc on each DHCP event: $1 is the event, the lease is in the environment.
    static let udhcpcScript = """
        #!/bin/sh
        # udhcpc calls this with the event in $1 and the lease in variables:
        # interface, ip, mask (prefix length), broadcast, router, dns, domain.
        case "$1" in
            deconfig)
                ip -4 addr flush dev "$interface"
                ip link set "$interface" up
                ;;
            bound|renew)
                if [ "$1" = bound ]; then
                    ip -4 addr flush dev "$interface"
                fi
                ip -4 addr add "$ip/${mask:-24}" ${broadcast:+broadcast "$broadcast"} dev "$interface" 2>/dev/null

                if [ -n "$router" ]; then
                    while ip route del default dev "$interface" 2>/dev/null; do :; done
                    set -- $router
                    ip route add default via "$1" dev "$interface"
                fi

                if [ -n "$dns" ]; then
                    {
                        [ -n "$domain" ] && echo "search $domain"
                        for server in $dns; do echo "nameserver $server"; done
                    } > /etc/resolv.conf
                fi
                ;;
        esac
        exit 0

        """
}
