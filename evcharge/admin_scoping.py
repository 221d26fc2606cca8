"""Who sees what in the Django admin, and how its edits are saved.

Platform admins (superusers, or active staff with role admin) see and change everything an admin allows.
An operator's staff (is_staff, role operator) see only their operator's rows, in the admins that declare
how a row belongs to an operator (`operator_scope`); every other admin answers them 403, and another
operator's object answers 404. Anyone else on the staff sees nothing.

The admin's own rights are decided here by role, as the API decides them; Django's per-model permissions
(groups, user_permissions) grant nothing more, so an operator can never be given another operator's rows.
"""

from uuid import UUID

from django.contrib import admin, messages
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.http import Http404, HttpResponseRedirect

from evcharge.actor import ADMIN, OPERATOR, Actor
from evcharge.errors import DomainError


def is_platform_admin(user) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and (user.is_superuser or getattr(user, "role", None) == ADMIN)
    )


def staff_operator_id(user) -> UUID | None:
    """The operator whose staff this admin user is; None for platform admins and everyone else."""
    if is_platform_admin(user) or not (user.is_authenticated and user.is_active and user.is_staff):
        return None
    if getattr(user, "role", None) != OPERATOR:
        return None
    return getattr(user, "operator_id", None)


def admin_actor(request) -> Actor:
    """The Actor for services called from the admin: the logged-in staff member, with their real role."""
    user = request.user
    if is_platform_admin(user):
        return Actor(user_id=user.id, role=ADMIN)
    return Actor(user_id=user.id, role=OPERATOR, operator_id=staff_operator_id(user))


class ScopedAllValuesFieldListFilter(admin.AllValuesFieldListFilter):
    """Django lists the values of a field behind a relation from every row of the related table;
    this one lists only those of the rows the admin shows."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.lookup_choices = (
            model_admin.get_queryset(request).distinct().order_by(field_path).values_list(field_path, flat=True)
        )


class OperatorScopedMixin:
    """Mix into a ModelAdmin (before it). `operator_scope` is the path from the model to its operator's id
    (None: platform admins only); override `scope_to_operator` when the model knows only a station or an
    invoice. `operator_may_change`: the operator's staff may also add, change and delete their rows
    (wherever the admin allows it at all: a read-only admin's own has_*_permission still wins)."""

    operator_scope: str | None = None
    operator_may_change: bool = False

    def scope_to_operator(self, queryset, operator_id: UUID):
        return queryset.filter(**{self.operator_scope: operator_id})

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_platform_admin(request.user):
            return queryset
        operator_id = staff_operator_id(request.user)
        if operator_id is None or self.operator_scope is None:
            return queryset.none()
        return self.scope_to_operator(queryset, operator_id)

    def _role_allows(self, request, *, write: bool) -> bool:
        if is_platform_admin(request.user):
            return True
        if self.operator_scope is None or staff_operator_id(request.user) is None:
            return False
        return self.operator_may_change or not write

    def _owns(self, request, obj) -> bool:
        if obj is None or is_platform_admin(request.user):
            return True
        cache = request.__dict__.setdefault("_operator_scoped_owns", {})
        key = (obj._meta.label, obj.pk)
        if key not in cache:
            cache[key] = self.get_queryset(request).filter(pk=obj.pk).exists()
        return cache[key]

    def has_module_permission(self, request) -> bool:
        return self._role_allows(request, write=False)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._role_allows(request, write=False) and self._owns(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._role_allows(request, write=True) and self._owns(request, obj)

    def has_add_permission(self, request) -> bool:
        return self._role_allows(request, write=True)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._role_allows(request, write=True) and self._owns(request, obj)

    def get_object(self, request, object_id, from_field=None):
        """Another operator's object (or none at all) is a 404, not the admin's redirect to its index."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(f"No {self.opts.verbose_name} with this id.")
        return obj

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if is_platform_admin(request.user):
            return filters
        return [scoped for spec in filters if (scoped := self._scoped_list_filter(spec)) is not None]

    def _scoped_list_filter(self, spec):
        """Filters list only values of the rows shown. A custom filter class is shown to operator staff
        only if it says it lists from the admin's own queryset (`operator_scoped = True`)."""
        if isinstance(spec, type) and issubclass(spec, admin.SimpleListFilter):
            return spec if getattr(spec, "operator_scoped", False) else None
        if not isinstance(spec, str):
            return spec
        try:
            fields = get_fields_from_path(self.model, spec)
        except FieldDoesNotExist:
            return spec
        if fields[-1].is_relation:
            return (spec, admin.RelatedOnlyFieldListFilter)
        if len(fields) > 1:
            return (spec, ScopedAllValuesFieldListFilter)
        return spec

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not is_platform_admin(request.user) and "queryset" not in kwargs:
            kwargs["queryset"] = _visible(self.admin_site, db_field.related_model, request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if not is_platform_admin(request.user) and "queryset" not in kwargs:
            kwargs["queryset"] = _visible(self.admin_site, db_field.related_model, request)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def _visible(site, model, request):
    """The rows of `model` this staff member may see: through its admin if it has one, else none."""
    model_admin = site._registry.get(model)
    if model_admin is None or not model_admin.has_view_permission(request):
        return model._default_manager.none()
    return model_admin.get_queryset(request)


class OperatorScopedAdmin(OperatorScopedMixin, admin.ModelAdmin):
    pass


class OperatorScopedInlineMixin:
    """For the inlines of an operator-scoped admin: the parent page is already scoped, so the rows shown
    are the parent's; rights follow the role as in OperatorScopedMixin."""

    operator_may_change: bool = False

    def _role_allows(self, request, *, write: bool) -> bool:
        if is_platform_admin(request.user):
            return True
        return staff_operator_id(request.user) is not None and (self.operator_may_change or not write)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._role_allows(request, write=False)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._role_allows(request, write=True)

    def has_add_permission(self, request, obj=None) -> bool:
        return self._role_allows(request, write=True)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._role_allows(request, write=True)


class ServiceSaveMixin:
    """Saves the admin's form through the context's service, like the API: `save_through_service` runs
    once the form is otherwise valid, inside the admin's transaction (so its outbox event commits with
    everything else); a DomainError becomes the form's errors. `delete_through_service` deletes."""

    def save_through_service(self, request, form, change: bool):
        raise NotImplementedError

    def delete_through_service(self, request, obj) -> None:
        raise NotImplementedError

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        model_admin = self

        class ServiceForm(form_class):
            def _post_clean(self):
                super()._post_clean()
                if self._errors:
                    return
                try:
                    with transaction.atomic():
                        self.saved_object = model_admin.save_through_service(request, self, change)
                except DomainError as exc:
                    _form_errors(self, exc)

        return ServiceForm

    def save_form(self, request, form, change):
        form.save_m2m = lambda: None
        return form.saved_object

    def save_model(self, request, obj, form, change):
        """Already saved by the service during validation."""

    def delete_model(self, request, obj):
        self.delete_through_service(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            try:
                with transaction.atomic():
                    self.delete_through_service(request, obj)
            except DomainError as exc:
                self.message_user(request, f"{obj}: {exc.detail}", messages.ERROR)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as exc:
            self.message_user(request, str(exc.detail), messages.ERROR)
            return HttpResponseRedirect(request.path)


def _form_errors(form, exc: DomainError) -> None:
    """Field errors on their fields (`rate_plan_id` on `rate_plan`), the rest above the form."""
    placed = False
    for name, field_messages in (exc.errors or {}).items():
        field = name.removesuffix("_id") if name.removesuffix("_id") in form.fields else name
        for message in field_messages if isinstance(field_messages, list | tuple) else [field_messages]:
            if field in form.fields:
                form.add_error(field, str(message))
            else:
                form.add_error(None, f"{name}: {message}")
            placed = True
    if not placed:
        form.add_error(None, str(exc.detail))
