# Every image of images/images.json: nix-build images -A hop-openvpn (or any other name there); nix-build images
# builds them all. Hop images come from hop.nix, Node services (a `bundle` in the declaration) from node-app.nix.
{ system ? builtins.currentSystem }:
let
  pkgs = import ./nixpkgs.nix { inherit system; };
  decl = import ./declaration.nix;
in
builtins.listToAttrs (map (name: {
  inherit name;
  value =
    if (decl.imageSpec name).kind == "node"
    then import ./node-app.nix { inherit pkgs name; }
    else import ./hop.nix { inherit pkgs name; };
}) decl.names)
