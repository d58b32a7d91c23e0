import Glibc
import SwrunCgroups
import SwrunSystem

/// The one sequence every start follows, whoever asked for it (`execute`, `start`'s monitor,
/// the OCI runtime's create): the spec's before-start hooks, the plan (its warnings told), the
/// launch; and once the container is gone, what it changed on the host undone (newest first)
/// and the after-stop hooks run, in that order, from one place. The host effects are held
/// here, and journaled, from the moment each is made.
final class LaunchSequence {
    let request: LaunchRequest
    let effects: HostEffects
    private(set) var cgroup: ContainerCgroup?
    private(set) var plan: StartPlan?
    /// The after-stop hooks run only for a start whose before-start hooks did.
    private var hooksRan = false
    /// An overlay or device rootfs mounted (in this process's own mount namespace) for the start.
    private var mountedRootfs = false
    /// The mount namespace this process left for one of the start's own; back to it at the
    /// end, which drops the start's (and what the rootfs and pre-mount hooks mounted there).
    private var hostMountNamespace: Int32?

    init(_ request: LaunchRequest) {
        self.request = request
        effects = HostEffects(directory: request.containerDirectory)
    }

    /// Runs the sequence up to the command (or, for an OCI create, to its start gate).
    /// `started` hears init's pid and cgroup as soon as init exists, to record them;
    /// `beforeCommand` runs once the container is set up.
    func launch(warn: (String) -> Void,
                started: (pid_t, ContainerCgroup?) throws(SwrunError) -> Void = { _, _ in },
                beforeCommand: (LaunchedContainer) throws(SwrunError) -> Void = { _ in }) throws(SwrunError) -> LaunchedContainer {
        try ContainerHooks.run(request.spec.hooks.beforeStart)
        hooksRan = true
        if !request.spec.hooks.beforeMount.isEmpty || request.spec.rootOverlay != nil || request.spec.rootDevice != nil {
            hostMountNamespace = try RootfsMount.leaveMountNamespace()
            try ContainerHooks.run(request.spec.hooks.beforeMount)
        }
        // Before anything reads or writes the rootfs from here: it is the merged view from now on.
        if let overlay = request.spec.rootOverlay {
            try RootfsMount.mount(overlay, at: request.spec.rootfs, idMaps: request.spec.idMaps, report: warn)
            mountedRootfs = true
        } else if let device = request.spec.rootDevice {
            try RootfsMount.mount(device, at: request.spec.rootfs)
            mountedRootfs = true
        }
        // The host's side of the network first: the plan is made from the settled links.
        var request = self.request
        try HostNetworkPreparation.prepare(&request.spec, container: request.containerName,
                                           lxcPath: FileSystem.parentPath(request.containerDirectory)).forEach(warn)
        let plan = try StartPlan(request)
        self.plan = plan
        plan.warnings.forEach(warn)
        return try ContainerLauncher(plan: plan).start(
            effects: effects,
            started: { (pid, made) throws(SwrunError) in
                cgroup = made
                try started(pid, made)
            },
            beforeCommand: beforeCommand)
    }

    /// Undoes what the start left once the container is gone (or never ran): its host effects,
    /// from memory (a record can be rewritten under us, the effects are ours; what cannot go
    /// yet stays journaled for the next stop or start), then the after-stop hooks, told the
    /// state where they read it.
    func finish(state: String? = nil, warn: (String) -> Void) {
        if mountedRootfs {
            RootfsMount.unmount(at: request.spec.rootfs, overlay: request.spec.rootOverlay)
            mountedRootfs = false
        }
        if let namespace = hostMountNamespace {
            RootfsMount.returnToMountNamespace(namespace)
            hostMountNamespace = nil
        }
        if !effects.undo() {
            warn("some of what container '\(request.containerName)' changed on the host could not be undone yet; the next stop or start tries again (see \(effects.journal))")
        }
        cgroup = nil
        guard hooksRan else { return }
        hooksRan = false
        ContainerHooks.runAfterStop(request.spec.hooks.stopped, state: state, warn: warn)
    }
}
