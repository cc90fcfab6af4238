# A hop image (the `vpn` container) as images/images.json declares it: images/hop/ (entrypoint.sh and whatever it
# sources) run by bash, with the declared packages on PATH and nothing else. It runs as uid 0 because Linux grants
# capabilities to a non-root process only through file capabilities or ambient sets: the pod drops every capability
# but NET_ADMIN and is not privileged.
{ pkgs ? import ./nixpkgs.nix { }, name }:
let
  lib = pkgs.lib;
  decl = import ./declaration.nix;
  spec = decl.imageSpec name;
  runtime = map (decl.nixPackage pkgs) spec.packages;
  # The repository folders of `copy` (images/hop), as they are, under lib/torchain.
  app = pkgs.runCommand "torchain-${name}-app" { } (lib.concatStrings (lib.mapAttrsToList (from: to: ''
    mkdir -p $out/lib/torchain/${to}
    cp -r ${./.. + "/${from}"}/. $out/lib/torchain/${to}/
  '') spec.copy));
  program = "${pkgs.${spec.program}}/bin/${spec.program}";
in
assert spec.kind == "hop";
pkgs.dockerTools.buildLayeredImage {
  name = spec.imageName;
  tag = spec.tag;
  # No `contents`: the closure of the config below (bash, the tools on PATH, the scripts) is the whole image.
  extraCommands = ''
    ${lib.concatStrings (lib.mapAttrsToList (dir: mode: ''
      mkdir -p .${dir}
      chmod ${mode} .${dir}
    '') spec.dirs)}
    ${lib.concatStrings (lib.mapAttrsToList (link: prog: ''
      mkdir -p "$(dirname .${link})"
      ln -s ${pkgs.${prog}}/bin/${prog} .${link}
    '') spec.links)}
  '';
  config = {
    Entrypoint = [ program "${app}/${spec.script}" ];
    Env = [ "PATH=${lib.makeBinPath runtime}" ] ++ lib.mapAttrsToList (k: v: "${k}=${v}") spec.env;
    User = spec.user;
    Labels = { "org.opencontainers.image.title" = spec.title; };
  };
}
