"""Generate a USD stage of an MJCF scene: ``data/scenes/tabletop.usda`` from ``data/scenes/tabletop.xml``.

The MuJoCo scene stays the source: a test regenerates the stage and compares it with the committed
file, so the two cannot drift apart. Run after editing the MJCF (or its object library):

    .venv/bin/python tools/assets/make_usd_scene.py [--scene tabletop] [--out data/scenes/tabletop.usda]

What the stage holds (z up, metres, kilograms; conventions in data/scenes/README.md):

* ``/World/PhysicsScene``: gravity and time step of the MJCF (``physxScene:timeStepsPerSecond``).
* ``/World/Room``: the named world geoms (floor as a mesh quad, boxes as scaled cubes), each a collider
  bound to a physics material of ``/World/PhysicsMaterials`` (one per distinct friction/restitution).
  Friction is MuJoCo's sliding friction (static = dynamic); restitution is what MuJoCo's soft contact
  gives for the geom's solref (measured, ``backends.mujoco.physics``); friction combines with ``max``
  as in MuJoCo (``physxMaterial:frictionCombineMode``).
* ``/World/Looks``: one UsdPreviewSurface material per MJCF material: diffuseColor = rgba (a checker
  texture becomes the mean of its colours), roughness = 1 - shininess, ior from specular (F0 = 0.08 x
  specular, ``sim2real.usd.materials``).
* ``/World/Lights``: each MJCF light as a UsdLux SphereLight (radius 5 cm) with a shaping cone of the
  spot cutoff, pointing along the light's direction; intensity = diffuse level x 60000 and colour =
  diffuse / level (MuJoCo lights have no photometric unit: the factor is a choice, tune it in the GUI).
* ``/World/Cameras``: each camera with its pose, a 20.955 mm horizontal aperture and the focal length
  that gives its fovy at 640x480, clipping from the MJCF's znear/zfar, ``sim2real:lookAt``.
* ``/World/Objects/<slot>``: a rigid body with a variant set ``asset``: each variant references the
  library asset (``/Library/<asset>``, an abstract ``class`` prim), sets the slot's class label
  (``UsdSemantics.LabelsAPI``), its mass, centre of mass, principal inertia and the slot material's
  colour. The slot rests on ``sim2real:restPoint`` (the MJCF body position); assets carry
  ``sim2real:supportPoints``/``supportRadii`` so appliers can rest any asset there at any orientation.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import mujoco
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "exts" / "sim2real"))

from pxr import Gf, Sdf, Usd, UsdGeom, UsdLux, UsdPhysics, UsdShade  # noqa: E402

from sim2real.backends.mujoco.physics import dampratio_to_restitution, restitution_curve  # noqa: E402
from sim2real.backends.mujoco.scene import VISUAL_GROUPS, Scene, load  # noqa: E402
from sim2real.usd.lights import rotation_between  # noqa: E402
from sim2real.usd.materials import specular_to_ior  # noqa: E402
from sim2real.usd.objects import REST_POINT, SUPPORT_POINTS, SUPPORT_RADII  # noqa: E402
from sim2real.usd.physics import PHYSICS_PURPOSE  # noqa: E402
from sim2real.sim.labels import quat_from_matrix  # noqa: E402
from sim2real.usd.semantics import apply_labels_api, labels_attr  # noqa: E402

OBJ = mujoco.mjtObj
GEOM = mujoco.mjtGeom
H_APERTURE_MM = 20.955  # Isaac Sim's default horizontal aperture
REFERENCE_RESOLUTION = (640, 480)  # the fovy of the MJCF is matched at this image size
INTENSITY_PER_LEVEL = 60000.0
LIGHT_RADIUS_M = 0.05
DIGITS = 6  # significant digits of every float written (stable across platforms)


def r(x: float) -> float:
    """Round to ``DIGITS`` significant digits (and make -0.0 plain 0.0)."""
    x = float(x)
    return 0.0 if x == 0 else float(f"{x:.{DIGITS}g}") + 0.0


def rv(values: object) -> list[float]:
    return [r(v) for v in np.ravel(np.asarray(values, dtype=float))]


def quat_wxyz(rot: np.ndarray) -> Gf.Quatd:
    q = quat_from_matrix(rot)
    return Gf.Quatd(*rv(q))


def set_pose(prim: Usd.Prim, pos: object, quat: object, scale: object = (1.0, 1.0, 1.0)) -> None:
    xf = UsdGeom.Xformable(prim)
    xf.AddTranslateOp().Set(Gf.Vec3d(*rv(pos)))
    q = np.asarray(quat, dtype=float)
    q = q / np.linalg.norm(q) * (1 if q[0] >= 0 else -1)
    xf.AddOrientOp(UsdGeom.XformOp.PrecisionDouble).Set(Gf.Quatd(*rv(q)))
    xf.AddScaleOp().Set(Gf.Vec3d(*rv(scale)))


def preview_material(stage: Usd.Stage, path: Sdf.Path, rgba: object | None, specular: float, shininess: float,
                     ) -> UsdShade.Material:
    """A UsdPreviewSurface material; ``rgba=None`` leaves the colour to variants (a local opinion here
    would be stronger than theirs)."""
    material = UsdShade.Material.Define(stage, path)
    shader = UsdShade.Shader.Define(stage, path.AppendChild("Shader"))
    shader.CreateIdAttr("UsdPreviewSurface")
    diffuse = shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f)
    if rgba is not None:
        diffuse.Set(Gf.Vec3f(*rv(np.asarray(rgba)[:3])))
    shader.CreateInput("roughness", Sdf.ValueTypeNames.Float).Set(r(1.0 - shininess))
    shader.CreateInput("metallic", Sdf.ValueTypeNames.Float).Set(0.0)
    shader.CreateInput("ior", Sdf.ValueTypeNames.Float).Set(r(specular_to_ior(specular)))
    material.CreateSurfaceOutput().ConnectToSource(shader.ConnectableAPI(), "surface")
    return material


class Writer:
    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        self.model = scene.model
        self.stage = Usd.Stage.CreateInMemory()
        self.layer = self.stage.GetRootLayer()
        UsdGeom.SetStageUpAxis(self.stage, UsdGeom.Tokens.z)
        UsdGeom.SetStageMetersPerUnit(self.stage, 1.0)
        UsdPhysics.SetStageKilogramsPerUnit(self.stage, 1.0)
        self.world = UsdGeom.Xform.Define(self.stage, "/World").GetPrim()
        self.stage.SetDefaultPrim(self.world)
        self.layer.documentation = (f"Generated from data/scenes/{scene.path.name} by tools/assets/"
                                    "make_usd_scene.py; do not edit (regenerate).")
        self.physics_materials: dict[tuple[float, float], Sdf.Path] = {}

    # ------------------------------------------------------------------ physics
    def physics_scene(self) -> None:
        scene = UsdPhysics.Scene.Define(self.stage, "/World/PhysicsScene")
        g = np.asarray(self.model.opt.gravity, dtype=float)
        scene.CreateGravityDirectionAttr(Gf.Vec3f(*rv(g / np.linalg.norm(g))))
        scene.CreateGravityMagnitudeAttr(r(np.linalg.norm(g)))
        prim = scene.GetPrim()
        prim.AddAppliedSchema("PhysxSceneAPI")
        prim.CreateAttribute("physxScene:timeStepsPerSecond", Sdf.ValueTypeNames.UInt).Set(
            int(round(1.0 / self.model.opt.timestep)))
        UsdGeom.Scope.Define(self.stage, "/World/PhysicsMaterials")

    def physics_material(self, geom: int) -> Sdf.Path:
        """The physics material of a geom's friction and restitution (one per distinct pair, named after
        them: ``mu0_6_e0_13`` is friction 0.6, restitution 0.13)."""
        model = self.model
        friction = r(model.geom_friction[geom, 0])
        solref, solimp = model.geom_solref[geom], model.geom_solimp[geom]
        curve = restitution_curve(float(model.opt.timestep), float(solref[0]), tuple(float(v) for v in solimp))
        restitution = round(dampratio_to_restitution(float(solref[1]), curve), 3)
        key = (friction, restitution)
        if key not in self.physics_materials:
            name = f"mu{friction:g}_e{restitution:g}".replace(".", "_").replace("-", "m")
            path = Sdf.Path("/World/PhysicsMaterials").AppendChild(name)
            material = UsdShade.Material.Define(self.stage, path)
            api = UsdPhysics.MaterialAPI.Apply(material.GetPrim())
            api.CreateStaticFrictionAttr(friction)
            api.CreateDynamicFrictionAttr(friction)
            api.CreateRestitutionAttr(restitution)
            prim = material.GetPrim()
            prim.AddAppliedSchema("PhysxMaterialAPI")
            prim.CreateAttribute("physxMaterial:frictionCombineMode", Sdf.ValueTypeNames.Token).Set("max")
            self.physics_materials[key] = path
        return self.physics_materials[key]

    # ------------------------------------------------------------------ looks
    def looks(self) -> None:
        UsdGeom.Scope.Define(self.stage, "/World/Looks")
        model, names = self.model, self.scene.names["mjOBJ_MATERIAL"]
        slots = {s.name for s in self.scene.slots}
        for m, name in enumerate(names):
            if not name or name in slots or "/" in name:
                continue
            rgba = np.asarray(model.mat_rgba[m], dtype=float)
            tex = int(model.mat_texid[m, int(mujoco.mjtTextureRole.mjTEXROLE_RGB)])
            if tex >= 0 and np.allclose(rgba[:3], 1.0):  # a builtin texture: its mean colour
                channels = int(model.tex_nchannel[tex])
                start, size = model.tex_adr[tex], model.tex_width[tex] * model.tex_height[tex] * channels
                pixels = np.asarray(model.tex_data[start:start + size], dtype=float).reshape(-1, channels)
                rgba = np.append(pixels[:, :3].mean(axis=0) / 255.0, 1.0)
            preview_material(self.stage, Sdf.Path("/World/Looks").AppendChild(name), rgba,
                             float(model.mat_specular[m]), float(model.mat_shininess[m]))

    # ------------------------------------------------------------------ geometry
    def geom(self, parent: Sdf.Path, g: int, name: str, looks: bool = True) -> Usd.Prim:
        model = self.model
        kind, size = int(model.geom_type[g]), model.geom_size[g]
        path = parent.AppendChild(name)
        pos, quat = model.geom_pos[g], model.geom_quat[g]
        scale = (1.0, 1.0, 1.0)
        if kind == GEOM.mjGEOM_BOX:
            prim = UsdGeom.Cube.Define(self.stage, path)
            prim.CreateSizeAttr(1.0)
            scale = 2 * np.asarray(size, dtype=float)
        elif kind == GEOM.mjGEOM_SPHERE:
            prim = UsdGeom.Sphere.Define(self.stage, path)
            prim.CreateRadiusAttr(r(size[0]))
        elif kind in (GEOM.mjGEOM_CYLINDER, GEOM.mjGEOM_CAPSULE):
            cls = UsdGeom.Cylinder if kind == GEOM.mjGEOM_CYLINDER else UsdGeom.Capsule
            prim = cls.Define(self.stage, path)
            prim.CreateRadiusAttr(r(size[0]))
            prim.CreateHeightAttr(r(2 * size[1]))
            prim.CreateAxisAttr(UsdGeom.Tokens.z)
        elif kind == GEOM.mjGEOM_PLANE:
            prim = UsdGeom.Mesh.Define(self.stage, path)
            hx, hy = float(size[0]), float(size[1])
            corners = [(-hx, -hy, 0), (hx, -hy, 0), (hx, hy, 0), (-hx, hy, 0)]
            prim.CreatePointsAttr([Gf.Vec3f(*rv(p)) for p in corners])
            prim.CreateFaceVertexCountsAttr([4])
            prim.CreateFaceVertexIndicesAttr([0, 1, 2, 3])
            prim.CreateExtentAttr([Gf.Vec3f(-hx, -hy, 0), Gf.Vec3f(hx, hy, 0)])
        elif kind == GEOM.mjGEOM_MESH:
            prim = self.mesh(path, int(model.geom_dataid[g]))
        else:
            raise SystemExit(f"geom {name}: type {kind} has no USD counterpart here")
        set_pose(prim.GetPrim(), pos, quat, scale)
        usd = prim.GetPrim()
        visual = int(model.geom_group[g]) in VISUAL_GROUPS
        collides = bool(model.geom_contype[g] or model.geom_conaffinity[g])
        if not visual:
            UsdGeom.Imageable(usd).CreatePurposeAttr(UsdGeom.Tokens.guide)
        if collides:
            UsdPhysics.CollisionAPI.Apply(usd)
            if kind == GEOM.mjGEOM_MESH:
                UsdPhysics.MeshCollisionAPI.Apply(usd).CreateApproximationAttr(UsdPhysics.Tokens.convexHull)
        if looks and visual and model.geom_matid[g] >= 0:
            look = Sdf.Path("/World/Looks").AppendChild(self.scene.names["mjOBJ_MATERIAL"][model.geom_matid[g]])
            UsdShade.MaterialBindingAPI.Apply(usd).Bind(UsdShade.Material.Get(self.stage, look))
        return usd

    def mesh(self, path: Sdf.Path, mesh: int) -> UsdGeom.Mesh:
        model = self.model
        v0, nv = int(model.mesh_vertadr[mesh]), int(model.mesh_vertnum[mesh])
        f0, nf = int(model.mesh_faceadr[mesh]), int(model.mesh_facenum[mesh])
        points = np.asarray(model.mesh_vert[v0:v0 + nv], dtype=float)
        faces = np.asarray(model.mesh_face[f0:f0 + nf], dtype=int)
        usd = UsdGeom.Mesh.Define(self.stage, path)
        usd.CreatePointsAttr([Gf.Vec3f(*rv(p)) for p in points])
        usd.CreateFaceVertexCountsAttr([3] * nf)
        usd.CreateFaceVertexIndicesAttr([int(i) for i in faces.reshape(-1)])
        usd.CreateExtentAttr([Gf.Vec3f(*rv(points.min(axis=0))), Gf.Vec3f(*rv(points.max(axis=0)))])
        usd.CreateSubdivisionSchemeAttr(UsdGeom.Tokens.none)
        return usd

    def room(self) -> None:
        UsdGeom.Xform.Define(self.stage, "/World/Room")
        model, names = self.model, self.scene.names["mjOBJ_GEOM"]
        for g in range(model.ngeom):
            if model.geom_bodyid[g] == 0 and names[g]:
                prim = self.geom(Sdf.Path("/World/Room"), g, names[g])
                if prim.HasAPI(UsdPhysics.CollisionAPI):
                    material = UsdShade.Material.Get(self.stage, self.physics_material(g))
                    UsdShade.MaterialBindingAPI.Apply(prim).Bind(
                        material, UsdShade.Tokens.weakerThanDescendants, PHYSICS_PURPOSE)

    # ------------------------------------------------------------------ lights and cameras
    def lights(self) -> None:
        UsdGeom.Xform.Define(self.stage, "/World/Lights")
        model = self.model
        for i, name in enumerate(self.scene.names["mjOBJ_LIGHT"]):
            diffuse = np.asarray(model.light_diffuse[i], dtype=float)
            level = float(diffuse.max())
            light = UsdLux.SphereLight.Define(self.stage, Sdf.Path("/World/Lights").AppendChild(name))
            light.CreateRadiusAttr(LIGHT_RADIUS_M)
            light.CreateIntensityAttr(r(level * INTENSITY_PER_LEVEL))
            light.CreateColorAttr(Gf.Vec3f(*rv(diffuse / level if level > 0 else np.ones(3))))
            light.CreateEnableColorTemperatureAttr(False)
            light.CreateColorTemperatureAttr(6500.0)
            prim = light.GetPrim()
            shaping = UsdLux.ShapingAPI.Apply(prim)
            shaping.CreateShapingConeAngleAttr(r(model.light_cutoff[i]))
            shaping.CreateShapingConeSoftnessAttr(r(min(1.0, float(model.light_exponent[i]) / 20.0)))
            UsdLux.ShadowAPI.Apply(prim).CreateShadowEnableAttr(bool(model.light_castshadow[i]))
            direction = np.asarray(model.light_dir[i], dtype=float)
            rot = rotation_between(np.array([0.0, 0.0, -1.0]), direction / np.linalg.norm(direction))
            set_pose(prim, model.light_pos[i], quat_from_matrix(rot))

    def cameras(self) -> None:
        UsdGeom.Xform.Define(self.stage, "/World/Cameras")
        model = self.model
        width, height = REFERENCE_RESOLUTION
        extent = float(model.stat.extent)
        for i, name in enumerate(self.scene.names["mjOBJ_CAMERA"]):
            cam = UsdGeom.Camera.Define(self.stage, Sdf.Path("/World/Cameras").AppendChild(name))
            v_aperture = H_APERTURE_MM * height / width
            cam.CreateHorizontalApertureAttr(H_APERTURE_MM)
            cam.CreateVerticalApertureAttr(r(v_aperture))
            cam.CreateFocalLengthAttr(r(v_aperture / (2 * math.tan(math.radians(float(model.cam_fovy[i])) / 2))))
            cam.CreateClippingRangeAttr(Gf.Vec2f(r(model.vis.map.znear * extent), r(model.vis.map.zfar * extent)))
            cam.CreateProjectionAttr(UsdGeom.Tokens.perspective)
            set_pose(cam.GetPrim(), model.cam_pos[i], model.cam_quat[i])
            look_at = self.scene.look_at.get(name)
            if look_at is not None:
                cam.GetPrim().CreateAttribute("sim2real:lookAt", Sdf.ValueTypeNames.Point3d).Set(
                    Gf.Vec3d(*rv(look_at)))

    # ------------------------------------------------------------------ objects
    def library(self) -> None:
        """Each asset once, under the abstract /Library, from the first slot's copy of it."""
        self.stage.CreateClassPrim("/Library")
        slot = self.scene.slots[0]
        for asset, v in slot.variants.items():
            path = Sdf.Path("/Library").AppendChild(asset)
            root = UsdGeom.Xform.Define(self.stage, path).GetPrim()
            unnamed = 0
            for g in v.geoms:
                name = self.scene.names["mjOBJ_GEOM"][g].rsplit("/", 1)[-1]
                if not name:
                    name, unnamed = f"collider_{unnamed:02d}", unnamed + 1
                self.geom(path, int(g), name, looks=False)
            root.CreateAttribute(SUPPORT_POINTS, Sdf.ValueTypeNames.Point3fArray).Set(
                [Gf.Vec3f(*rv(p)) for p in v.support_points])
            root.CreateAttribute(SUPPORT_RADII, Sdf.ValueTypeNames.FloatArray).Set(rv(v.support_radii))

    def objects(self) -> None:
        UsdGeom.Xform.Define(self.stage, "/World/Objects")
        model = self.model
        for slot in self.scene.slots:
            path = Sdf.Path("/World/Objects").AppendChild(slot.name)
            prim = UsdGeom.Xform.Define(self.stage, path).GetPrim()
            UsdPhysics.RigidBodyAPI.Apply(prim)
            mass_api = UsdPhysics.MassAPI.Apply(prim)
            # label, mass and colour belong to the asset: authored in its variant only (a local opinion
            # on the slot itself would be stronger than every variant's)
            apply_labels_api(prim, "class")
            point = np.asarray(model.body_pos[slot.body], dtype=float)
            prim.CreateAttribute(REST_POINT, Sdf.ValueTypeNames.Point3d).Set(Gf.Vec3d(*rv(point)))
            v0 = slot.variants[slot.default_asset]
            lift = -float((v0.support_points[:, 2] - v0.support_radii).min())
            set_pose(prim, point + [0.0, 0.0, lift], model.body_quat[slot.body])
            looks = UsdGeom.Scope.Define(self.stage, path.AppendChild("Looks"))
            material = preview_material(self.stage, looks.GetPath().AppendChild(slot.name), None,
                                        float(model.mat_specular[slot.material]),
                                        float(model.mat_shininess[slot.material]))
            UsdShade.MaterialBindingAPI.Apply(prim).Bind(material, UsdShade.Tokens.strongerThanDescendants)
            physics = UsdShade.Material.Get(self.stage, self.physics_material(int(v0.geoms[0])))
            UsdShade.MaterialBindingAPI(prim).Bind(physics, UsdShade.Tokens.weakerThanDescendants,
                                                   PHYSICS_PURPOSE)
            variants = prim.GetVariantSets().AddVariantSet("asset")
            for asset, v in slot.variants.items():
                variants.AddVariant(asset)
                variants.SetVariantSelection(asset)
                with variants.GetVariantEditContext():
                    self.stage.DefinePrim(path.AppendChild(asset)).GetReferences().AddInternalReference(
                        Sdf.Path("/Library").AppendChild(asset))
                    labels_attr(prim, "class").Set([asset])
                    b = v.body
                    mass_api.CreateMassAttr(r(model.body_mass[b]))
                    mass_api.CreateCenterOfMassAttr(Gf.Vec3f(*rv(model.body_ipos[b])))
                    mass_api.CreateDiagonalInertiaAttr(Gf.Vec3f(*rv(model.body_inertia[b])))
                    iq = rv(model.body_iquat[b] * (1 if model.body_iquat[b][0] >= 0 else -1))
                    mass_api.CreatePrincipalAxesAttr(Gf.Quatf(*iq))
                    shader = UsdShade.Shader.Get(self.stage, material.GetPath().AppendChild("Shader"))
                    shader.GetInput("diffuseColor").Set(Gf.Vec3f(*rv(v.color[:3])))
            variants.SetVariantSelection(slot.default_asset)

    def build(self) -> Usd.Stage:
        self.physics_scene()
        self.looks()
        self.room()
        self.lights()
        self.cameras()
        if self.scene.slots:
            self.library()
            self.objects()
        return self.stage


def make(scene: str) -> str:
    """The usda text of a scene (a path or a shipped name)."""
    stage = Writer(load(scene, REFERENCE_RESOLUTION)).build()
    return stage.GetRootLayer().ExportToString()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scene", default="tabletop", help="MJCF scene: a path or a shipped name")
    parser.add_argument("--out", type=Path, default=None, help="output .usda (default data/scenes/<scene>.usda)")
    args = parser.parse_args()
    out = args.out or ROOT / "data" / "scenes" / f"{Path(args.scene).stem}.usda"
    text = make(args.scene)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(out)
    print(f"wrote {out} ({len(text)} bytes)")


if __name__ == "__main__":
    main()
